# A module that declares provider_meta, as every current terraform-aws-modules module does.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }

  provider_meta "aws" {
    user_agent = ["github.com/example/terraform-aws-network"]
  }
}

resource "aws_vpc" "this" {
  cidr_block = "10.20.0.0/16"
}

output "checks" {
  value = {
    module_applied = can(regex("^vpc-", aws_vpc.this.id))
  }
}
