# Rendered by saasctl from templates/tenant/premium.tf.j2: do not edit by hand.
# Values live in terraform.tfvars.json; change tenant.yaml and run `saasctl render`.
#
# Tier premium (silo): a dedicated ECS cluster with its own services and
# target groups, behind the shared ALB.

terraform {
  required_version = ">= 1.0.0"
}

variable "shared_state" {
  description = "Backend settings to read the shared workspace's state; passed by saasctl at plan time."
  type        = any
}

variable "tenant_id" {
  type = any
}

variable "name_prefix" {
  type = any
}

variable "host" {
  type = any
}

variable "listener_priority" {
  type = any
}

variable "services" {
  type = any
}

variable "tags" {
  type = any
}

variable "identity" {
  type = any
}

variable "deletion_protection" {
  type = any
}

variable "cpu" {
  type = any
}

variable "memory" {
  type = any
}

variable "desired_count" {
  type = any
}

variable "min_capacity" {
  type = any
}

variable "max_capacity" {
  type = any
}

variable "deployment_strategy" {
  type = any
}

variable "deployment_bake_minutes" {
  type = any
}

variable "tables" {
  type = any
}

variable "config" {
  type = any
}

variable "saasctl_config_digest" {
  description = "Digest of the rendered files, kept in state to tell applied from drifted."
  type        = string
}

# The tenant stack reads the shared stack's outputs from its state (same S3 backend).
data "terraform_remote_state" "shared" {
  backend = "s3"
  config  = var.shared_state
}

module "tenant" {
  source = "../../../../modules/standins/tenant-premium"

  shared = data.terraform_remote_state.shared.outputs
  # null outputs are not kept in state, and a shared stack from before the pool
  # (or its endpoints) existed has none
  shared_user_pool_id = try(data.terraform_remote_state.shared.outputs.user_pool_id, null)
  endpoints           = try(data.terraform_remote_state.shared.outputs.endpoints, null)
  # the pool's per-tenant log groups (none from a shared stack before them)
  tenant_log_group_prefix = try(data.terraform_remote_state.shared.outputs.tenant_log_group_prefix, null)

  tenant_id               = var.tenant_id
  name_prefix             = var.name_prefix
  host                    = var.host
  listener_priority       = var.listener_priority
  services                = var.services
  tags                    = var.tags
  identity                = var.identity
  deletion_protection     = var.deletion_protection
  cpu                     = var.cpu
  memory                  = var.memory
  desired_count           = var.desired_count
  min_capacity            = var.min_capacity
  max_capacity            = var.max_capacity
  deployment_strategy     = var.deployment_strategy
  deployment_bake_minutes = var.deployment_bake_minutes
  tables                  = var.tables
  config                  = var.config
}

output "tenant" {
  value = module.tenant
}

output "saasctl_config_digest" {
  value = var.saasctl_config_digest
}
