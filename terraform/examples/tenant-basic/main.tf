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

# The shared stack's outputs, as a tenant workspace reads them from remote state.
locals {
  shared = {
    vpc_id                 = "vpc-0123456789abcdef0"
    private_subnet_ids     = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    https_listener_arn     = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/saas-example/0123456789abcdef/0123456789abcdef"
    alb_security_group_id  = "sg-0123456789abcdef0"
    pool_cluster_arn       = "arn:aws:ecs:eu-west-1:111122223333:cluster/saas-example-pool"
    advanced_cluster_arn   = "arn:aws:ecs:eu-west-1:111122223333:cluster/saas-example-advanced"
    pool_target_group_arns = { web = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/saas-example-pool-web/0123456789abcdef" }
    log_group_name         = "/ecs/saas-example/services"
  }
}

module "tenant" {
  source = "../../modules/tenant-basic"

  tenant_id         = "acme"
  name_prefix       = "example-acme"
  host              = "acme.app.example.com"
  listener_priority = 100
  services = [
    { name = "web", image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0", port = 8080, path = "/*", health_check_path = "/healthz", tables = ["orders"] },
  ]
  tags   = { Tenant = "acme" }
  shared = local.shared

  # Its users in a group of the environment's pool; its orders in the pooled table.
  identity            = "shared"
  shared_user_pool_id = "eu-west-1_Example01"
  # the shared stack's `endpoints` output: tasks reach AWS through them only
  endpoints = {
    security_group_id = "sg-0123456789abcdef2"
    prefix_list_ids   = { dynamodb = "pl-02cd2c6b", s3 = "pl-6da54004" }
  }
  deletion_protection = true
}
