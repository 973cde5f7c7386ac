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

module "waf" {
  source = "../../modules/waf"

  name         = "example"
  resource_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/example/0123456789abcdef"
  tenant_rate_limits = {
    acme = { host = "acme.app.example.com", limit = 1000 }
  }
  count_only_groups = ["AWSManagedRulesAnonymousIpList"]
}
