# STAND-IN for terraform/modules/tenant-premium (testing only): null resources with
# the same interface; creates nothing in AWS.

locals {
  services    = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => merge(s, { index = i }) }
  cluster_arn = "arn:aws:ecs:${split(":", var.shared.advanced_cluster_arn)[3]}:${split(":", var.shared.advanced_cluster_arn)[4]}:cluster/${null_resource.cluster.triggers.name}"
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

resource "null_resource" "cluster" {
  triggers = {
    stands_for = "aws_ecs_cluster"
    name       = "${var.name_prefix}-cluster"
  }
}
