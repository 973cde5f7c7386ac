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
  tier_rate_limits = {
    basic    = { limit = 1000, hosts = [], pool = true }
    advanced = { limit = 5000, hosts = ["globex.app.example.com"], pool = false }
    premium  = { limit = 20000, hosts = ["initech.app.example.com", "umbrella.app.example.com"], pool = false }
  }
  ip_rate_limit     = 20000
  count_only_groups = ["AWSManagedRulesAnonymousIpList"]
}
