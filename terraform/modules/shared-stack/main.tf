# The environment's shared stack: network, endpoints, public ALB with WAF, the
# pool cluster with the basic tier's services, and the advanced tier's cluster.

locals {
  # Catch-all paths last, so more specific rules win.
  services = { for i, s in concat([for s in var.services : s if s.path != "/*"], [for s in var.services : s if s.path == "/*"]) : s.name => merge(s, { index = i }) }
  # Each basic tenant's share of the pool's logs: this prefix and its id.
  tenant_log_prefix = "/saasctl/${var.name}/tenants/"
}

data "aws_elb_service_account" "this" {}

module "vpc" {
  source = "../vpc"

  name               = var.name
  account_id         = var.account_id
  cidr               = var.vpc_cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
  tags               = var.tags
}

module "endpoints" {
  source = "../vpc-endpoints"

  name                    = var.name
  region                  = var.region
  account_id              = var.account_id
  vpc_id                  = module.vpc.vpc_id
  vpc_cidr                = module.vpc.vpc_cidr
  private_subnet_ids      = module.vpc.private_subnet_ids
  private_route_table_ids = module.vpc.private_route_table_ids
  tags                    = var.tags
}

# --- ALB access logs -----------------------------------------------------------

resource "aws_s3_bucket" "alb_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it would recurse.
  #checkov:skip=CKV_AWS_144:Access logs need no cross-region replication.
  #checkov:skip=CKV_AWS_145:ALB access logs support only SSE-S3, not KMS.
  #checkov:skip=CKV2_AWS_62:No consumer of object events for access logs.
  bucket_prefix = "${var.name}-alb-logs-"

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "alb_logs" {
  bucket                  = aws_s3_bucket.alb_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

# ALB access logs can only be delivered to SSE-S3 buckets, not SSE-KMS.
#trivy:ignore:AVD-AWS-0132
resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    id     = "expire"
    status = "Enabled"

    filter {
      prefix = ""
    }

    expiration {
      days = 400
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "alb_logs" {
  statement {
    sid       = "ElbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${var.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  statement {
    sid       = "ElbLogDeliveryService"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${var.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.alb_logs.arn,
      "${aws_s3_bucket.alb_logs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  policy = data.aws_iam_policy_document.alb_logs.json

  depends_on = [aws_s3_bucket_public_access_block.alb_logs]
}

# --- edge ------------------------------------------------------------------------

module "alb" {
  source = "../alb"

  name               = var.name
  vpc_id             = module.vpc.vpc_id
  vpc_cidr           = module.vpc.vpc_cidr
  public_subnet_ids  = module.vpc.public_subnet_ids
  certificate_arn    = var.certificate_arn
  allowed_cidrs      = var.allowed_cidrs
  access_logs_bucket = aws_s3_bucket.alb_logs.id
  tags               = var.tags

  depends_on = [aws_s3_bucket_policy.alb_logs]
}

module "waf" {
  source = "../waf"

  name             = var.name
  resource_arn     = module.alb.arn
  tier_rate_limits = var.tier_rate_limits
  ip_rate_limit    = var.ip_rate_limit
  suspended_hosts  = var.suspended_hosts
  tags             = var.tags
}

# --- compute ---------------------------------------------------------------------

module "pool_cluster" {
  source = "../ecs-cluster"

  name = "${var.name}-pool"
  tags = var.tags
}

module "advanced_cluster" {
  source = "../ecs-cluster"

  name = "${var.name}-advanced"
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "services" {
  #checkov:skip=CKV_AWS_158:Service-managed encryption; pass a CMK through a fork of this stack if required.
  name              = "/ecs/${var.name}/services"
  retention_in_days = 365

  tags = var.tags
}

# Each basic tenant's configuration: one parameter (String: settings and flags,
# never secrets); the pooled tasks serve every basic tenant, so they read them all.
resource "aws_ssm_parameter" "tenant_config" {
  #checkov:skip=CKV2_AWS_34:Settings and flags, not secrets (those go to Secrets Manager).
  for_each = var.tenant_configs == null ? {} : var.tenant_configs.documents

  name        = "${var.tenant_configs.prefix}${each.key}/config"
  description = "saasctl configuration of tenant ${each.key}"
  type        = "String"
  tier        = "Standard"
  value       = each.value

  tags = var.tags
}

# The basic tier's pooled services. Each gets a probe rule (header match) at the
# top priorities so ECS sees its target group attached; tenants add host rules.
module "pool_service" {
  source   = "../ecs-service"
  for_each = local.services

  name                  = "${var.name}-pool-${each.key}"
  region                = var.region
  account_id            = var.account_id
  cluster_arn           = module.pool_cluster.arn
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.private_subnet_ids
  alb_security_group_id = module.alb.security_group_id
  endpoints             = module.endpoints.egress
  listener_arn          = module.alb.https_listener_arn
  listener_priority     = each.value.index + 1
  # Each basic tenant's host rule forwards to the pool's target group, and ECS's
  # traffic shifting moves one listener rule: the pool rolls.
  deployment_strategy      = "ROLLING"
  load_balancer_arn_suffix = module.alb.arn_suffix
  path_patterns            = []
  http_header              = { name = "x-saasctl-pool-probe", values = [each.key] }
  # Only a client at TEST-NET-1 (RFC 5737), which never connects, matches the probe:
  # nobody reaches the pool past the tenants' host rules by sending the header.
  source_ips        = ["192.0.2.0/32"]
  image             = each.value.image
  container_port    = each.value.port
  health_check_path = each.value.health_check_path
  cpu               = var.pool.cpu
  memory            = var.pool.memory
  desired_count     = var.pool.desired_count
  min_capacity      = var.pool.min_capacity
  max_capacity      = var.pool.max_capacity
  log_group_name    = aws_cloudwatch_log_group.services.name
  # Each basic tenant's records to its own group (its workspace creates it).
  tenant_log_prefix = local.tenant_log_prefix
  tags              = merge(var.tags, { Tier = "basic" })

  environment = var.tenant_configs == null ? {} : {
    SAASCTL_CONFIG_PREFIX  = var.tenant_configs.prefix
    SAASCTL_CONFIG_VERSION = var.tenant_configs.version
  }
  config_parameter_arns = var.tenant_configs == null ? [] : ["arn:aws:ssm:${var.region}:${var.account_id}:parameter${var.tenant_configs.prefix}*"]

  # Any tenant's items, one tenant per session: the session's tenant is the
  # custom:tenantId of a user's verified token of the shared pool.
  tenant_data = length(setintersection(each.value.tables, var.pool_tables)) == 0 || !var.shared_user_pool ? null : {
    table_arns = [for t in sort(setintersection(each.value.tables, var.pool_tables)) : module.pool_data[0].table_arns[t]]
    tenant_id  = null
    identity = {
      provider_name = module.identity[0].provider_name
      client_id     = module.identity[0].client_id
    }
  }
  service_connect = {
    namespace_arn          = aws_service_discovery_http_namespace.pool.arn
    discovery_name         = each.key
    mesh_security_group_id = aws_security_group.pool_mesh.id
  }
}

# --- identity, pooled data and service discovery of the pool -----------------

module "identity" {
  source = "../identity"
  count  = var.shared_user_pool ? 1 : 0

  name = "${var.name}-users"
  tags = var.tags
}

module "pool_data" {
  source = "../tenant-data"
  count  = length(var.pool_tables) > 0 ? 1 : 0

  name_prefix = "${var.name}-pool"
  account_id  = var.account_id
  tables      = var.pool_tables
  tags        = var.tags
}

resource "aws_service_discovery_http_namespace" "pool" {
  name        = "${var.name}-pool"
  description = "Service Connect of the pooled services"
  tags        = var.tags
}

resource "aws_security_group" "pool_mesh" {
  name_prefix = "${var.name}-pool-mesh-"
  description = "Pooled tasks: may call each other"
  vpc_id      = module.vpc.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-pool-mesh" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "pool_mesh" {
  security_group_id            = aws_security_group.pool_mesh.id
  description                  = "To the other pooled services"
  ip_protocol                  = "tcp"
  from_port                    = 1
  to_port                      = 65535
  referenced_security_group_id = aws_security_group.pool_mesh.id

  tags = var.tags
}
