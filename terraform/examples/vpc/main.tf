terraform {
  required_version = ">= 1.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

module "vpc" {
  source = "../../modules/vpc"

  name               = "example"
  account_id         = "123456789012"
  cidr               = "10.10.0.0/16"
  azs                = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  single_nat_gateway = true
  tags               = { Project = "example" }
}

output "private_subnet_ids" {
  value = module.vpc.private_subnet_ids
}
