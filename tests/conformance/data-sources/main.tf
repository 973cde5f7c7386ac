# Computed attributes of data sources hold well-formed values of their type, so
# expressions on them work (an SSM parameter's value, a list to index).
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


data "aws_ssm_parameter" "image" {
  name = "/app/image"
}

data "aws_subnets" "private" {}

data "aws_availability_zones" "available" {}

data "aws_vpc" "default" {
  default = true
}

data "aws_caller_identity" "current" {}

resource "aws_ssm_parameter" "copy" {
  name  = "/app/image-copy"
  type  = "String"
  value = data.aws_ssm_parameter.image.value
}

output "checks" {
  value = {
    parameter_value     = data.aws_ssm_parameter.image.value != null
    subnet_indexable    = can(regex("^subnet-", data.aws_subnets.private.ids[0]))
    zones_of_the_region = data.aws_availability_zones.available.names[0] == "eu-central-1a"
    zone_ids            = can(regex("^euc1-az", data.aws_availability_zones.available.zone_ids[0]))
    vpc_cidr            = can(cidrsubnet(data.aws_vpc.default.cidr_block, 8, 0))
    account             = data.aws_caller_identity.current.account_id == "123456789012"
  }
}
