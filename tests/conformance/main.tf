# The conformance corpus: one module per class of fidelity rule of saasctl's offline
# AWS provider, run together (one lifecycle) in several regions. Every value of
# the `checks` output must be true after apply; `update.tfvars` changes tags and
# they must follow. (Provider functions need terraform >= 1.8: see functions/.)
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "team" {
  description = "Passed to the tags case; update.tfvars changes it."
  type        = string
  default     = "core"
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = {
      ManagedBy = "terraform"
      Team      = "platform"
    }
  }
}

provider "aws" {
  alias  = "london"
  region = "eu-west-2"
}

provider "aws" {
  alias  = "sydney"
  region = "ap-southeast-2"
}

provider "aws" {
  alias  = "frankfurt"
  region = "eu-central-1"
}

module "provider_meta" {
  source = "./provider-meta"
}

module "unknown_blocks" {
  source = "./unknown-blocks"
}

module "unique_ids" {
  source = "./unique-ids"
}

module "arns" {
  source    = "./arns"
  providers = { aws = aws.london }
}

module "prefixes" {
  source = "./prefixes"
}

module "values" {
  source    = "./values"
  providers = { aws = aws.sydney }
}

module "data_sources" {
  source    = "./data-sources"
  providers = { aws = aws.frankfurt }
}

module "tags" {
  source = "./tags"
  team   = var.team
}

output "checks" {
  value = merge(
    { for k, v in module.provider_meta.checks : "provider-meta: ${k}" => v },
    { for k, v in module.unknown_blocks.checks : "unknown-blocks: ${k}" => v },
    { for k, v in module.unique_ids.checks : "unique-ids: ${k}" => v },
    { for k, v in module.arns.checks : "arns: ${k}" => v },
    { for k, v in module.prefixes.checks : "prefixes: ${k}" => v },
    { for k, v in module.values.checks : "values: ${k}" => v },
    { for k, v in module.data_sources.checks : "data-sources: ${k}" => v },
    { for k, v in module.tags.checks : "tags: ${k}" => v },
  )
}
