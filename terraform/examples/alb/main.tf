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

module "alb" {
  source = "../../modules/alb"

  name                = "example"
  vpc_id              = module.vpc.vpc_id
  vpc_cidr            = module.vpc.vpc_cidr
  public_subnet_ids   = module.vpc.public_subnet_ids
  certificate_arn     = "arn:aws:acm:eu-west-1:111122223333:certificate/example"
  access_logs_bucket  = "example-alb-logs"
  deletion_protection = false
}

output "dns_name" {
  value = module.alb.dns_name
}
