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

# A premium tenant: a user pool and tables of its own, and a namespace in which
# its services find each other.
module "isolation" {
  source = "../../modules/tenant-isolation"

  name_prefix = "example-globex"
  tenant_id   = "globex"
  account_id  = "111122223333"
  vpc_id      = "vpc-0123456789abcdef0"
  identity    = "dedicated"
  tables      = ["orders"]
  tags        = { Tenant = "globex" }
}
