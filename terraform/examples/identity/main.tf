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

# The shared pool of basic tenants, a group in it for one of them, and a
# dedicated pool for an advanced or premium tenant.
module "shared_pool" {
  source = "../../modules/identity"

  name = "example-pool"
}

module "basic_tenant" {
  source = "../../modules/identity"

  name                = "tenant-initech"
  tenant_id           = "initech"
  shared_user_pool_id = module.shared_pool.user_pool_id
}

module "premium_tenant" {
  source = "../../modules/identity"

  name                   = "example-globex"
  mfa_configuration      = "ON"
  advanced_security_mode = "ENFORCED"
  tags                   = { Tenant = "globex" }
}
