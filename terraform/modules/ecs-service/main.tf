locals {
  cluster_name = element(split("/", var.cluster_arn), 1)
  # ECS native blue/green, canary and linear shift traffic between two target
  # groups on the listener rule; ROLLING replaces tasks behind one.
  traffic_shift = var.deployment_strategy != "ROLLING"
  rule_arn      = local.traffic_shift ? aws_lb_listener_rule.shifted[0].arn : aws_lb_listener_rule.this[0].arn
  log_group     = "arn:aws:logs:${var.region}:${var.account_id}:log-group:${var.log_group_name}"
  conditions = concat(
    length(var.host_headers) > 0 ? [{ kind = "host", values = var.host_headers, header = "" }] : [],
    length(var.path_patterns) > 0 ? [{ kind = "path", values = var.path_patterns, header = "" }] : [],
    var.http_header != null ? [{ kind = "header", values = var.http_header.values, header = var.http_header.name }] : [],
    length(var.source_ips) > 0 ? [{ kind = "source", values = var.source_ips, header = "" }] : [],
  )
  # A private ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPO[:TAG|@DIGEST])
  # is pulled with the execution role: its repository is granted, and only it.
  image_repository = [
    for m in regexall("^(\\d{12})\\.dkr\\.ecr(?:-fips)?\\.([a-z0-9-]+)\\.(amazonaws\\.com(?:\\.cn)?)/([^:@]+)", var.image) :
    "arn:${m[2] == "amazonaws.com.cn" ? "aws-cn" : "aws"}:ecr:${m[1]}:${m[0]}:repository/${m[3]}"
  ]
  ecr_repository_arns = distinct(concat(var.ecr_repository_arns, local.image_repository))
  # A pooled service learns where to exchange its users' tokens.
  environment = merge(var.environment, local.pooled ? { TENANT_IDENTITY_POOL_ID = aws_cognito_identity_pool.tenant[0].id } : {})
}

# --- roles -------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = substr("${var.name}-exec-", 0, 32)
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group}:log-stream:*"]
  }

  dynamic "statement" {
    for_each = length(local.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid       = "PullImages"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = local.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid     = "EcrToken"
      actions = ["ecr:GetAuthorizationToken"]
      #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken supports no resource-level permissions.
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.secrets) > 0 ? [1] : []

    content {
      sid       = "Secrets"
      actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
      resources = distinct([for arn in values(var.secrets) : split(":", arn)[2] == "secretsmanager" ? join(":", slice(split(":", arn), 0, 7)) : arn])
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name_prefix        = substr("${var.name}-task-", 0, 32)
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "exec" {
  # ECS Exec (only with enable_execute_command): AWS defines no resource type for
  # these four ssmmessages actions, so "*" is the only resource they can name.
  statement {
    sid = "EcsExec"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    #checkov:skip=CKV_AWS_356:ssmmessages actions support no resource-level permissions.
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "exec" {
  count = var.enable_execute_command ? 1 : 0

  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.exec.json
}

# FireLens's Fluent Bit writes with the task role: streams and events in the
# service's group and in the tenants' groups under the prefix, nothing else (no
# reading, no creating groups).
data "aws_iam_policy_document" "tenant_logs" {
  count = var.tenant_log_prefix == null ? 0 : 1

  statement {
    sid     = "TenantLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "${local.log_group}:log-stream:*",
      "arn:aws:logs:${var.region}:${var.account_id}:log-group:${var.tenant_log_prefix}*:log-stream:*",
      local.log_group,
      "arn:aws:logs:${var.region}:${var.account_id}:log-group:${var.tenant_log_prefix}*",
    ]
  }
}

resource "aws_iam_role_policy" "tenant_logs" {
  count = var.tenant_log_prefix == null ? 0 : 1

  name   = "tenant-logs"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.tenant_logs[0].json
}

# Tenant configuration (saasctl's config versions): the task reads its tenant's
# parameter (a pooled task, its basic tenants' parameters), nothing else in SSM.
data "aws_iam_policy_document" "config" {
  count = length(var.config_parameter_arns) > 0 ? 1 : 0

  statement {
    sid       = "TenantConfig"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = var.config_parameter_arns
  }
}

resource "aws_iam_role_policy" "config" {
  count = length(var.config_parameter_arns) > 0 ? 1 : 0

  name   = "tenant-config"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.config[0].json
}

# The tenant-scoped role: its sessions carry a `tenant` tag and touch only items
# whose partition key is that tenant (dynamodb:LeadingKeys). Scan is not
# granted: it has no leading key to check.
locals {
  # A pooled service serves every basic tenant, so its task must not choose the
  # tag: Cognito sets it from a verified token's custom:tenantId (below). A
  # dedicated service's task may assume the role tagged with its tenant only.
  pooled = var.tenant_data == null ? false : var.tenant_data.tenant_id == null
}

data "aws_iam_policy_document" "tenant_trust" {
  count = var.tenant_data == null || local.pooled ? 0 : 1

  statement {
    sid     = "TaskRoleWithItsTenantTag"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.task.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/tenant"
      values   = [var.tenant_data.tenant_id]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["tenant"]
    }
  }
}

# Pooled: a user's ID token of the shared pool is exchanged (Cognito identity
# pool, enhanced flow) for a session of the tenant-scoped role whose `tenant`
# tag Cognito maps from the token's custom:tenantId, which no app client may
# write. The task holds no permission to assume the role itself.
resource "aws_cognito_identity_pool" "tenant" {
  count = local.pooled ? 1 : 0

  identity_pool_name               = var.name
  allow_unauthenticated_identities = false
  allow_classic_flow               = false # Cognito picks the role, not the caller

  cognito_identity_providers {
    client_id               = var.tenant_data.identity.client_id
    provider_name           = var.tenant_data.identity.provider_name
    server_side_token_check = true # a signed-out or revoked token is refused
  }

  tags = var.tags
}

resource "aws_cognito_identity_pool_provider_principal_tag" "tenant" {
  count = local.pooled ? 1 : 0

  identity_pool_id       = aws_cognito_identity_pool.tenant[0].id
  identity_provider_name = var.tenant_data.identity.provider_name
  use_defaults           = false
  principal_tags         = { tenant = "custom:tenantId" }
}

data "aws_iam_policy_document" "tenant_trust_verified" {
  count = local.pooled ? 1 : 0

  statement {
    sid     = "VerifiedUserOfThisIdentityPool"
    actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]

    principals {
      type        = "Federated"
      identifiers = ["cognito-identity.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "cognito-identity.amazonaws.com:aud"
      values   = [aws_cognito_identity_pool.tenant[0].id]
    }

    condition {
      test     = "ForAnyValue:StringLike"
      variable = "cognito-identity.amazonaws.com:amr"
      values   = ["authenticated"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/tenant"
      values   = ["?*"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["tenant"]
    }
  }
}

resource "aws_iam_role" "tenant" {
  count = var.tenant_data == null ? 0 : 1

  name_prefix          = substr("${var.name}-tenant-", 0, 32)
  assume_role_policy   = local.pooled ? data.aws_iam_policy_document.tenant_trust_verified[0].json : data.aws_iam_policy_document.tenant_trust[0].json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_cognito_identity_pool_roles_attachment" "tenant" {
  count = local.pooled ? 1 : 0

  identity_pool_id = aws_cognito_identity_pool.tenant[0].id
  roles            = { authenticated = aws_iam_role.tenant[0].arn }
}

data "aws_iam_policy_document" "tenant_items" {
  count = var.tenant_data == null ? 0 : 1

  statement {
    sid = "OwnTenantItemsOnly"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = var.tenant_data.table_arns

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = ["$${aws:PrincipalTag/tenant}"]
    }

    # ForAllValues holds on an empty set: require the key to be present.
    condition {
      test     = "Null"
      variable = "dynamodb:LeadingKeys"
      values   = ["false"]
    }
  }
}

resource "aws_iam_role_policy" "tenant_items" {
  count = var.tenant_data == null ? 0 : 1

  name   = "tenant-items"
  role   = aws_iam_role.tenant[0].id
  policy = data.aws_iam_policy_document.tenant_items[0].json
}

data "aws_iam_policy_document" "assume_tenant" {
  count = var.tenant_data == null || local.pooled ? 0 : 1

  statement {
    sid       = "AssumeTenantScopedRole"
    actions   = ["sts:AssumeRole", "sts:TagSession"]
    resources = [aws_iam_role.tenant[0].arn]
  }
}

resource "aws_iam_role_policy" "assume_tenant" {
  count = var.tenant_data == null || local.pooled ? 0 : 1

  name   = "assume-tenant-scoped-role"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.assume_tenant[0].json
}

# --- task definition ---------------------------------------------------------

locals {
  log_router = "log-router"
  awslogs = {
    logDriver = "awslogs"
    options = tomap({
      awslogs-group         = var.log_group_name
      awslogs-region        = var.region
      awslogs-stream-prefix = var.name
    })
  }
  # With tenant_log_prefix, Fluent Bit's cloudwatch_logs output: the group named by the
  # record's `tenant` field (record accessor); a record without one falls back to
  # the service's group. Groups are the tenants' own (auto_create_group off): a
  # record cannot make one.
  app_logs = var.tenant_log_prefix == null ? local.awslogs : {
    logDriver = "awsfirelens"
    options = tomap({
      Name               = "cloudwatch_logs"
      region             = var.region
      log_group_name     = var.log_group_name
      log_group_template = "${var.tenant_log_prefix}$tenant"
      log_stream_prefix  = "${var.name}/"
      auto_create_group  = "false"
    })
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode(concat([merge({
    name                   = var.name
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = var.readonly_root_filesystem
    portMappings           = [merge({ containerPort = var.container_port, protocol = "tcp" }, var.service_connect == null ? {} : { name = "http" })]
    environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    secrets                = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
    logConfiguration       = local.app_logs
    }, var.tenant_log_prefix == null ? {} : {
    dependsOn = [{ containerName = local.log_router, condition = "START" }]
    })], var.tenant_log_prefix == null ? [] : [{
    # FireLens: ECS hands the app's stdout to this Fluent Bit, configured by the
    # app container's log options above. Its own logs go to the service's group.
    name                   = local.log_router
    image                  = var.log_router_image
    essential              = true
    readonlyRootFilesystem = var.readonly_root_filesystem
    memoryReservation      = 50
    firelensConfiguration  = { type = "fluentbit", options = { "enable-ecs-log-metadata" = "true" } }
    logConfiguration       = merge(local.awslogs, { options = merge(local.awslogs.options, { awslogs-stream-prefix = "${var.name}-firelens" }) })
  }]))

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  tags = var.tags
}

# --- network and load balancing ---------------------------------------------

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "Tasks of ${var.name}: from the ALB only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "From the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.alb_security_group_id

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "from_mesh" {
  count = var.service_connect == null ? 0 : 1

  security_group_id            = aws_security_group.this.id
  description                  = "From the tenant's other services (Service Connect)"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.service_connect.mesh_security_group_id

  tags = var.tags
}

# With endpoints, tasks reach AWS through them only, and nothing else unless
# egress_cidrs names it: a compromised task has nowhere to send data.
resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = toset(var.egress_cidrs != null ? var.egress_cidrs : var.endpoints == null ? ["0.0.0.0/0"] : [])

  security_group_id = aws_security_group.this.id
  description       = var.egress_cidrs == null ? "HTTPS to AWS APIs and image registries" : "HTTPS to ${each.key}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.key

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "endpoints" {
  count = var.endpoints == null ? 0 : 1

  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS to the VPC's interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.endpoints.security_group_id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "gateways" {
  for_each = var.endpoints == null ? {} : var.endpoints.prefix_list_ids

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ${each.key} through its gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = each.value

  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the ALB; targets sit in private subnets reachable only from its security group.
  name                 = var.name
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = "30"

  health_check {
    enabled             = true
    path                = var.health_check_path
    matcher             = var.health_check_matcher
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

# The second target group of a blue/green, canary or linear deployment.
resource "aws_lb_target_group" "alternate" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the ALB; targets sit in private subnets reachable only from its security group.
  count = local.traffic_shift ? 1 : 0

  name                 = "${substr(var.name, 0, 29)}-bg"
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = "30"

  health_check {
    enabled             = true
    path                = var.health_check_path
    matcher             = var.health_check_matcher
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "this" {
  count = local.traffic_shift ? 0 : 1

  listener_arn = var.listener_arn
  priority     = var.listener_priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "host"]

    content {
      host_header {
        values = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "path"]

    content {
      path_pattern {
        values = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "header"]

    content {
      http_header {
        http_header_name = condition.value.header
        values           = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "source"]

    content {
      source_ip {
        values = condition.value.values
      }
    }
  }

  tags = var.tags
}

# With traffic shifting, ECS moves the rule's weights between the two target groups
# during a deployment: it owns the action from then on.
resource "aws_lb_listener_rule" "shifted" {
  count = local.traffic_shift ? 1 : 0

  listener_arn = var.listener_arn
  priority     = var.listener_priority

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.this.arn
        weight = 100
      }

      target_group {
        arn    = aws_lb_target_group.alternate[0].arn
        weight = 0
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "host"]

    content {
      host_header {
        values = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "path"]

    content {
      path_pattern {
        values = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "header"]

    content {
      http_header {
        http_header_name = condition.value.header
        values           = condition.value.values
      }
    }
  }

  dynamic "condition" {
    for_each = [for c in local.conditions : c if c.kind == "source"]

    content {
      source_ip {
        values = condition.value.values
      }
    }
  }

  tags = var.tags

  lifecycle {
    ignore_changes = [action]
  }
}

resource "aws_service_discovery_service" "this" {
  count = var.register_in_cloud_map ? 1 : 0

  name = var.name

  dns_config {
    namespace_id   = var.cloud_map_namespace_id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  tags = var.tags
}

# --- deployment alarms and the role ECS shifts traffic with ------------------------

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${var.name}-5xx"
  alarm_description   = "Target 5xx of ${var.name}: in ALARM, ECS rolls the deployment back."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  threshold           = var.alarm_5xx_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.load_balancer_arn_suffix
    TargetGroup  = aws_lb_target_group.this.arn_suffix
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${var.name}-unhealthy"
  alarm_description   = "Unhealthy targets of ${var.name}: in ALARM, ECS rolls the deployment back."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.load_balancer_arn_suffix
    TargetGroup  = aws_lb_target_group.this.arn_suffix
  }

  tags = var.tags
}

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "traffic" {
  count = local.traffic_shift ? 1 : 0

  name_prefix        = substr("${var.name}-lb-", 0, 32)
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "traffic" {
  statement {
    sid       = "ShiftTraffic"
    actions   = ["elasticloadbalancing:ModifyRule", "elasticloadbalancing:ModifyListener"]
    resources = [local.rule_arn, var.listener_arn]
  }

  statement {
    sid     = "RegisterTasks"
    actions = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = concat(
      [aws_lb_target_group.this.arn],
      [for tg in aws_lb_target_group.alternate : tg.arn],
    )
  }

  # Describe actions of elasticloadbalancing have no resource-level permissions.
  statement {
    sid = "ReadLoadBalancing"
    actions = [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    #checkov:skip=CKV_AWS_356:elasticloadbalancing Describe actions support no resource-level permissions.
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "traffic" {
  count = local.traffic_shift ? 1 : 0

  name   = "shift-traffic"
  role   = aws_iam_role.traffic[0].id
  policy = data.aws_iam_policy_document.traffic.json
}

# --- service and autoscaling ---------------------------------------------------

resource "aws_ecs_service" "this" {
  name                              = var.name
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.desired_count
  enable_execute_command            = var.enable_execute_command
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"
  health_check_grace_period_seconds = 30

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider
    weight            = 1
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.service_connect == null ? [aws_security_group.this.id] : [aws_security_group.this.id, var.service_connect.mesh_security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.name
    container_port   = var.container_port

    dynamic "advanced_configuration" {
      for_each = local.traffic_shift ? [1] : []

      content {
        alternate_target_group_arn = aws_lb_target_group.alternate[0].arn
        production_listener_rule   = local.rule_arn
        role_arn                   = aws_iam_role.traffic[0].arn
      }
    }
  }

  deployment_configuration {
    strategy             = var.deployment_strategy
    bake_time_in_minutes = local.traffic_shift ? tostring(var.deployment_bake_minutes) : null

    dynamic "canary_configuration" {
      for_each = var.deployment_strategy == "CANARY" ? [1] : []

      content {
        canary_percent              = var.canary_percent
        canary_bake_time_in_minutes = tostring(var.traffic_step_minutes)
      }
    }

    dynamic "linear_configuration" {
      for_each = var.deployment_strategy == "LINEAR" ? [1] : []

      content {
        step_percent              = var.linear_step_percent
        step_bake_time_in_minutes = tostring(var.traffic_step_minutes)
      }
    }
  }

  # Rolling deployments stop and roll back on failing tasks; every strategy rolls
  # back when one of the service's alarms goes into ALARM.
  dynamic "deployment_circuit_breaker" {
    for_each = local.traffic_shift ? [] : [1]

    content {
      enable   = true
      rollback = true
    }
  }

  alarms {
    alarm_names = [aws_cloudwatch_metric_alarm.target_5xx.alarm_name, aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name]
    enable      = true
    rollback    = true
  }

  dynamic "service_connect_configuration" {
    for_each = var.service_connect == null ? [] : [var.service_connect]

    content {
      enabled   = true
      namespace = service_connect_configuration.value.namespace_arn

      service {
        port_name      = "http"
        discovery_name = service_connect_configuration.value.discovery_name

        client_alias {
          port     = var.container_port
          dns_name = service_connect_configuration.value.discovery_name
        }
      }
    }
  }

  dynamic "service_registries" {
    for_each = aws_service_discovery_service.this

    content {
      registry_arn = service_registries.value.arn
    }
  }

  # Autoscaling owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }

  # ECS needs the target group attached to the load balancer first.
  depends_on = [aws_lb_listener_rule.this, aws_lb_listener_rule.shifted, aws_iam_role_policy.traffic]

  tags = var.tags
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  resource_id        = "service/${local.cluster_name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  name               = "${var.name}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.memory_target

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}
