# The tenant's own services, target groups, autoscaling and host rules on the
# shared ALB, and its isolation (identity, tables, Service Connect): shared by
# tenant-advanced and tenant-premium (a symlink there), which differ only in
# the cluster the services run on (local.cluster_arn, set in each main.tf).
# A symlink rather than a module call keeps every resource's address, so
# existing tenants' plans stay clean without `moved` blocks (Terraform 1.0
# has none).

locals {
  # Catch-all paths last, so more specific rules win.
  services  = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => merge(s, { index = i }) }
  arn_parts = split(":", var.shared.advanced_cluster_arn)
}

# The tenant's container logs, apart from every other tenant's. Kept when the
# tenant is offboarded (until their retention ends); a prefix makes the name
# new on each onboarding, so a restored tenant does not collide with them.
resource "aws_cloudwatch_log_group" "services" {
  #checkov:skip=CKV_AWS_158:Service-managed encryption, as the shared stack's group.
  name_prefix       = "/ecs/${var.name_prefix}/"
  retention_in_days = 365
  skip_destroy      = true

  tags = var.tags
}

# The tenant's configuration: one parameter (String: settings and flags, never
# secrets), read only by the tenant's own task roles.
resource "aws_ssm_parameter" "config" {
  #checkov:skip=CKV2_AWS_34:Settings and flags, not secrets (those go to Secrets Manager).
  count = var.config == null ? 0 : 1

  name        = var.config.parameter
  description = "saasctl configuration of tenant ${var.tenant_id}"
  type        = "String"
  tier        = "Standard"
  value       = var.config.document

  tags = var.tags
}

module "service" {
  source   = "../ecs-service"
  for_each = local.services

  name                  = "${var.name_prefix}-${each.key}"
  region                = local.arn_parts[3]
  account_id            = local.arn_parts[4]
  cluster_arn           = local.cluster_arn
  vpc_id                = var.shared.vpc_id
  subnet_ids            = var.shared.private_subnet_ids
  alb_security_group_id = var.shared.alb_security_group_id
  endpoints             = var.endpoints
  listener_arn          = var.shared.https_listener_arn
  listener_priority     = var.listener_priority + each.value.index
  host_headers          = [var.host]
  path_patterns         = [each.value.path]
  image                 = each.value.image
  container_port        = each.value.port
  health_check_path     = each.value.health_check_path
  cpu                   = var.cpu
  memory                = var.memory
  desired_count         = var.desired_count
  min_capacity          = var.min_capacity
  max_capacity          = var.max_capacity
  log_group_name        = aws_cloudwatch_log_group.services.name
  tags                  = var.tags

  environment = var.config == null ? {} : {
    SAASCTL_CONFIG_PARAMETER = var.config.parameter
    SAASCTL_CONFIG_VERSION   = var.config.version
  }
  config_parameter_arns = aws_ssm_parameter.config[*].arn

  deployment_strategy      = var.deployment_strategy
  deployment_bake_minutes  = var.deployment_bake_minutes
  load_balancer_arn_suffix = var.shared.alb_arn_suffix

  # Items of this tenant only, in the tables the service uses; its other
  # services by name through Service Connect.
  tenant_data = length(setintersection(each.value.tables, var.tables)) == 0 ? null : {
    table_arns = [for t in sort(setintersection(each.value.tables, var.tables)) : module.isolation.table_arns[t]]
    tenant_id  = var.tenant_id
    identity   = null
  }
  service_connect = {
    namespace_arn          = module.isolation.service_connect.namespace_arn
    discovery_name         = each.key
    mesh_security_group_id = module.isolation.service_connect.mesh_security_group_id
  }
}

module "isolation" {
  source = "../tenant-isolation"

  name_prefix         = var.name_prefix
  tenant_id           = var.tenant_id
  account_id          = local.arn_parts[4]
  vpc_id              = var.shared.vpc_id
  identity            = var.identity
  shared_user_pool_id = var.shared_user_pool_id
  tables              = var.tables
  deletion_protection = var.deletion_protection
  tags                = var.tags
}
