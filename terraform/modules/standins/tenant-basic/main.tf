# STAND-IN for terraform/modules/tenant-basic (testing only): null resources with
# the same interface; creates nothing in AWS.

resource "null_resource" "listener_rule" {
  for_each = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => i }

  triggers = {
    stands_for   = "aws_lb_listener_rule"
    host         = var.host
    priority     = tostring(var.listener_priority + each.value)
    target_group = var.shared.pool_target_group_arns[each.key]
  }
}
