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

module "shared" {
  source = "../../modules/shared-stack"

  name               = "saas-example"
  region             = "eu-west-1"
  account_id         = "111122223333"
  domain             = "app.example.com"
  vpc_cidr           = "10.0.0.0/16"
  azs                = ["eu-west-1a", "eu-west-1b"]
  single_nat_gateway = false
  certificate_arn    = "arn:aws:acm:eu-west-1:111122223333:certificate/example"
  allowed_cidrs      = ["0.0.0.0/0"]
  services = [
    { name = "web", image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0", port = 8080, path = "/*", health_check_path = "/healthz", tables = ["orders"] },
  ]
  pool = { cpu = 256, memory = 512, desired_count = 2, min_capacity = 2, max_capacity = 6 }
  tier_rate_limits = {
    basic    = { limit = 1000, hosts = [], pool = true }
    advanced = { limit = 5000, hosts = ["globex.app.example.com"], pool = false }
  }
  ip_rate_limit = 20000
  tags          = { Project = "example" }

  # Basic tenants' orders in a pooled table; their users in groups of one pool.
  pool_tables      = ["orders"]
  shared_user_pool = true
}
