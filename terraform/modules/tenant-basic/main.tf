# Tier basic (pool): the tenant's host is routed to the environment's pooled
# services on the shared ALB. Its WAF rate rule lives in the shared web ACL.

locals {
  # Catch-all paths last, so more specific rules win.
  services = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => merge(s, { index = i }) }
}

resource "aws_lb_listener_rule" "this" {
  for_each = local.services

  listener_arn = var.shared.https_listener_arn
  priority     = var.listener_priority + each.value.index

  action {
    type             = "forward"
    target_group_arn = var.shared.pool_target_group_arns[each.key]
  }

  condition {
    host_header {
      values = [var.host]
    }
  }

  condition {
    path_pattern {
      values = [each.value.path]
    }
  }

  tags = var.tags
}

module "isolation" {
  source = "../tenant-isolation"

  name_prefix         = var.name_prefix
  tenant_id           = var.tenant_id
  account_id          = split(":", var.shared.pool_cluster_arn)[4]
  vpc_id              = var.shared.vpc_id
  identity            = var.identity
  shared_user_pool_id = var.shared_user_pool_id
  tables              = [] # pooled data: the shared stack's tables
  service_connect     = false
  deletion_protection = var.deletion_protection
  tags                = var.tags
}

# The tenant's share of the pool's container logs: FireLens in the pooled tasks
# routes each record naming this tenant here. Exported with the tenant's data on
# offboarding, then destroyed with it (its exact name comes back on a restore).
resource "aws_cloudwatch_log_group" "tenant" {
  #checkov:skip=CKV_AWS_158:Service-managed encryption, as the shared stack's group.
  count = var.tenant_log_group_prefix == null ? 0 : 1

  name              = "${var.tenant_log_group_prefix}${var.tenant_id}"
  retention_in_days = 365

  tags = var.tags
}
