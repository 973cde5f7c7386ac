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

# The web ACL: one rate-based rule per tier that has one (the pooled tier's always)
# and one per client IP, as the real waf module makes them.
resource "null_resource" "web_acl" {
  triggers = {
    stands_for       = "aws_wafv2_web_acl"
    rate_based_rules = tostring(length([for t in values(var.tier_rate_limits) : t if t.pool || length(t.hosts) > 0]) + 1)
    hosts            = join(",", sort(flatten([for t in values(var.tier_rate_limits) : t.hosts])))
    limits           = join(",", [for k in sort(keys(var.tier_rate_limits)) : "${k}=${var.tier_rate_limits[k].limit}"])
    ip_limit         = tostring(var.ip_rate_limit)
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
    config        = var.tenant_configs == null ? "" : var.tenant_configs.version
  }
}

resource "null_resource" "tenant_config" {
  for_each = var.tenant_configs == null ? {} : var.tenant_configs.documents

  triggers = {
    stands_for = "aws_ssm_parameter"
    name       = "${var.tenant_configs.prefix}${each.key}/config"
    value      = each.value
  }
}
