# STAND-IN for terraform/modules/shared-stack (testing only): null resources with
# the same interface; creates nothing in AWS.

locals {
  id = substr(sha1("${var.account_id}/${var.region}/${var.name}"), 0, 17)
}

resource "null_resource" "network" {
  triggers = {
    stands_for = "aws_vpc"
    vpc_cidr   = var.vpc_cidr
    azs        = join(",", var.azs)
    single_nat = tostring(var.single_nat_gateway)
  }
}

resource "null_resource" "alb" {
  triggers = {
    stands_for      = "aws_lb"
    certificate_arn = var.certificate_arn
    allowed_cidrs   = join(",", var.allowed_cidrs)
  }
}

resource "null_resource" "waf_rate_rule" {
  for_each = var.tenant_rate_limits

  triggers = {
    stands_for = "aws_wafv2_web_acl"
    host       = each.value.host
    limit      = tostring(each.value.limit)
  }
}

resource "null_resource" "cluster" {
  for_each = toset(["pool", "advanced"])

  triggers = {
    stands_for = "aws_ecs_cluster"
    name       = "${var.name}-${each.key}"
  }
}

resource "null_resource" "pool_service" {
  for_each = { for s in var.services : s.name => s }

  triggers = {
    stands_for    = "aws_ecs_service"
    image         = each.value.image
    port          = tostring(each.value.port)
    desired_count = tostring(var.pool.desired_count)
  }
}
