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

  name       = "example"
  account_id = "123456789012"
  cidr       = "10.10.0.0/16"
  azs        = ["eu-west-1a", "eu-west-1b"]
}

module "endpoints" {
  source = "../../modules/vpc-endpoints"

  name                    = "example"
  region                  = "eu-west-1"
  account_id              = "123456789012"
  vpc_id                  = module.vpc.vpc_id
  vpc_cidr                = module.vpc.vpc_cidr
  private_subnet_ids      = module.vpc.private_subnet_ids
  private_route_table_ids = module.vpc.private_route_table_ids
}
