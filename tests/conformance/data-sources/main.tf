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

# AWS's public parameters hold what AWS publishes (terraform-aws-ecs decodes the
# ECS-optimized AMI's JSON document at plan).
data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_ami" "linux" {
  most_recent = true
  owners      = ["amazon"]
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*", "arn:aws:s3:::a/*"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = ["123456789012"]
    }
  }
}

# An IPAM pool's next CIDR, known at apply inside the pool, so cidrsubnets() over
# it plans subnets (terraform-aws-vpc's ipam example); a VPC taken from the pool
# gets that block, and the next preview the one after it.
resource "aws_vpc_ipam" "this" {
  operating_regions {
    region_name = "eu-central-1"
  }
}

resource "aws_vpc_ipam_pool" "this" {
  address_family                    = "ipv4"
  ipam_scope_id                     = aws_vpc_ipam.this.private_default_scope_id
  locale                            = "eu-central-1"
  allocation_default_netmask_length = 20
}

resource "aws_vpc_ipam_pool_cidr" "this" {
  ipam_pool_id = aws_vpc_ipam_pool.this.id
  cidr         = "172.20.0.0/16"
}

resource "aws_vpc_ipam_preview_next_cidr" "first" {
  ipam_pool_id = aws_vpc_ipam_pool.this.id
  depends_on   = [aws_vpc_ipam_pool_cidr.this]
}

resource "aws_vpc" "from_pool" {
  ipv4_ipam_pool_id   = aws_vpc_ipam_pool.this.id
  ipv4_netmask_length = 20
  depends_on          = [aws_vpc_ipam_preview_next_cidr.first]
}

resource "aws_vpc_ipam_preview_next_cidr" "second" {
  ipam_pool_id   = aws_vpc_ipam_pool.this.id
  netmask_length = 24
  depends_on     = [aws_vpc.from_pool]
}

resource "aws_ssm_parameter" "copy" {
  name  = "/app/image-copy"
  type  = "String"
  value = data.aws_ssm_parameter.image.value
}

output "checks" {
  value = {
    parameter_value     = nonsensitive(data.aws_ssm_parameter.image.value) != null
    subnet_indexable    = can(regex("^subnet-", data.aws_subnets.private.ids[0]))
    zones_of_the_region = data.aws_availability_zones.available.names[0] == "eu-central-1a"
    zone_ids            = can(regex("^euc1-az", data.aws_availability_zones.available.zone_ids[0]))
    vpc_cidr            = can(cidrsubnet(data.aws_vpc.default.cidr_block, 8, 0))
    account             = data.aws_caller_identity.current.account_id == "123456789012"
    partition           = data.aws_partition.current.partition == "aws" && data.aws_partition.current.dns_suffix == "amazonaws.com"
    region              = data.aws_region.current.region == "eu-central-1"
    ami                 = can(regex("^ami-[0-9a-f]{17}$", data.aws_ami.linux.id))
    public_parameter    = can(regex("^ami-[0-9a-f]{17}$", jsondecode(nonsensitive(data.aws_ssm_parameter.ecs_ami.value)).image_id))
    policy_exact = jsondecode(data.aws_iam_policy_document.read.json) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "Read", Effect = "Allow", Action = "s3:GetObject"
        Resource  = ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
      }]
    }
    ipam_preview_in_pool = aws_vpc_ipam_preview_next_cidr.first.cidr == "172.20.0.0/20"
    ipam_subnets_plan    = length(cidrsubnets(aws_vpc_ipam_preview_next_cidr.first.cidr, 2, 2, 2)) == 3
    ipam_vpc_takes_it    = aws_vpc.from_pool.cidr_block == aws_vpc_ipam_preview_next_cidr.first.cidr
    ipam_next_is_free    = aws_vpc_ipam_preview_next_cidr.second.cidr == "172.20.16.0/24"
  }
}
