# hashicorp/random served offline (saasctl/offline_aws/utility.py): values of the
# real provider's shapes, stable in state, replaced when an argument (keepers
# included) changes. test_conformance.py applies it, re-plans clean, applies
# update.tfvars (a new rotation) and checks which values changed. The null 3.x
# provider (offered to `saasctl offline env` shells) rides along: a trigger
# replaces its resource as a keeper does.
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    random = {
      source  = "hashicorp/random"
      version = "~> 3.1"
    }
    null = {
      source  = "hashicorp/null"
      version = ">= 3.2"
    }
  }
}

variable "rotation" {
  description = "A keeper of the password: a new value replaces it."
  type        = string
  default     = "1"
}

resource "random_id" "bucket" {
  byte_length = 4
  prefix      = "b-"
}

resource "random_password" "db" {
  length      = 24
  special     = false
  min_numeric = 4
  keepers     = { rotation = var.rotation }
}

resource "random_string" "suffix" {
  length  = 8
  upper   = false
  special = false
}

resource "random_integer" "port" {
  min  = 1000
  max  = 1999
  seed = "fixed"
}

resource "random_integer" "port_again" {
  min  = 1000
  max  = 1999
  seed = "fixed"
}

resource "random_pet" "name" {
  prefix = "demo"
}

resource "random_shuffle" "azs" {
  input        = ["a", "b", "c", "d"]
  result_count = 2
}

resource "random_uuid" "request" {}

resource "random_bytes" "key" {
  length = 32
}

resource "null_resource" "rotated" {
  triggers = { rotation = var.rotation }
}

data "null_data_source" "passthrough" {
  inputs = { pet = random_pet.name.id }
}

locals {
  password = nonsensitive(random_password.db.result)
}

output "values" {
  description = "What the test compares across applies."
  value = {
    id       = random_id.bucket.hex
    password = local.password
    suffix   = random_string.suffix.result
    pet      = random_pet.name.id
    uuid     = random_uuid.request.result
    null     = null_resource.rotated.id
  }
}

output "checks" {
  value = {
    "random:id hex and b64"   = can(regex("^b-[0-9a-f]{8}$", random_id.bucket.hex)) && length(random_id.bucket.id) == 6
    "random:id dec"           = can(regex("^b-[0-9]+$", random_id.bucket.dec))
    "random:password length"  = length(local.password) == 24
    "random:password classes" = can(regex("^[A-Za-z0-9]+$", local.password)) && length(regexall("[0-9]", local.password)) >= 4
    "random:string classes"   = can(regex("^[a-z0-9]{8}$", random_string.suffix.result))
    "random:string defaults"  = random_string.suffix.numeric && random_string.suffix.lower && random_string.suffix.min_upper == 0
    "random:integer range"    = random_integer.port.result >= 1000 && random_integer.port.result <= 1999
    "random:integer seed"     = random_integer.port.result == random_integer.port_again.result
    "random:pet"              = can(regex("^demo-[a-z]+-[a-z]+$", random_pet.name.id))
    "random:shuffle"          = length(random_shuffle.azs.result) == 2 && length(setsubtract(random_shuffle.azs.result, ["a", "b", "c", "d"])) == 0
    "random:uuid"             = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", random_uuid.request.result))
    "random:bytes"            = length(random_bytes.key.hex) == 64 && length(random_bytes.key.base64) == 44
    "random:null id"          = can(regex("^[0-9]+$", null_resource.rotated.id))
    "random:null data"        = data.null_data_source.passthrough.outputs.pet == random_pet.name.id
  }
}
