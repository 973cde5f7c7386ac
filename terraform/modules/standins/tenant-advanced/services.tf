# STAND-IN for terraform/modules/tenant-advanced/services.tf (testing only), shared
# with the tenant-premium stand-in through a symlink, as the real file is.

locals {
  services = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => merge(s, { index = i }) }
}

resource "null_resource" "service" {
  for_each = local.services

  triggers = {
    stands_for    = "aws_ecs_service"
    cluster       = local.cluster_arn
    name          = "${var.name_prefix}-${each.key}"
    image         = each.value.image
    cpu           = tostring(var.cpu)
    memory        = tostring(var.memory)
    desired_count = tostring(var.desired_count)
    scaling       = "${var.min_capacity}-${var.max_capacity}"
    deployment    = "${var.deployment_strategy}/${var.deployment_bake_minutes}"
    config        = var.config == null ? "" : var.config.version
  }
}

resource "null_resource" "config" {
  count = var.config == null ? 0 : 1

  triggers = {
    stands_for = "aws_ssm_parameter"
    name       = var.config.parameter
    value      = var.config.document
  }
}

resource "null_resource" "listener_rule" {
  for_each = local.services

  triggers = {
    stands_for = "aws_lb_listener_rule"
    host       = var.host
    priority   = tostring(var.listener_priority + each.value.index)
    service    = "${var.name_prefix}-${each.key}" # by name: a new image leaves the rule alone
  }
}
