# What isolates a tenant beyond compute: its identity (a dedicated user pool or
# a group in the shared one), its own tables when its data is dedicated, and a
# Service Connect namespace with a mesh security group for its own services.

locals {
  # A shared identity needs the shared stack's pool; without it the module would
  # quietly create a pool of the tenant's own. Terraform 1.0 has no
  # preconditions, so the plan fails on this conversion, showing the text.
  pool_missing  = var.identity == "shared" && var.shared_user_pool_id == null
  identity_name = local.pool_missing ? tonumber("The shared user pool is missing: apply the shared workspace first.") : (var.identity == "shared" ? "tenant-${var.tenant_id}" : var.name_prefix)
}

module "identity" {
  source = "../identity"

  name                = local.identity_name
  tenant_id           = var.tenant_id
  shared_user_pool_id = var.identity == "shared" ? var.shared_user_pool_id : null
  deletion_protection = var.deletion_protection
  tags                = var.tags
}

module "data" {
  source = "../tenant-data"
  count  = length(var.tables) > 0 ? 1 : 0

  name_prefix         = var.name_prefix
  account_id          = var.account_id
  tables              = var.tables
  deletion_protection = var.deletion_protection
  tags                = var.tags
}

resource "aws_service_discovery_http_namespace" "this" {
  count = var.service_connect ? 1 : 0

  name        = var.name_prefix
  description = "Service Connect of tenant ${var.tenant_id}"
  tags        = var.tags
}

resource "aws_security_group" "mesh" {
  #checkov:skip=CKV2_AWS_5:Attached to the tenant's tasks by the ecs-service modules that receive it.
  count = var.service_connect ? 1 : 0

  name_prefix = "${var.name_prefix}-mesh-"
  description = "Tasks of tenant ${var.tenant_id}: may call each other"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name_prefix}-mesh" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "mesh" {
  count = var.service_connect ? 1 : 0

  security_group_id            = aws_security_group.mesh[0].id
  description                  = "To the tenant's other services"
  ip_protocol                  = "tcp"
  from_port                    = 1
  to_port                      = 65535
  referenced_security_group_id = aws_security_group.mesh[0].id

  tags = var.tags
}
