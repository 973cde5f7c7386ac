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

# A premium tenant's own tables for two services, under a key of its own.
module "data" {
  source = "../../modules/tenant-data"

  name_prefix = "example-globex"
  account_id  = "111122223333"
  tables      = ["orders", "profiles"]
  tags        = { Tenant = "globex" }
}
