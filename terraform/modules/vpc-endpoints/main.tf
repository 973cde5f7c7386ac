# A data perimeter on the endpoints: through them, only principals of this
# account, and through the gateways only to this account's buckets and tables,
# so a compromised task cannot ship data to another account with other keys.
locals {
  # Calls that carry no AWS principal: Cognito identity's token exchange (the
  # user's token is the credential), which an account condition would refuse.
  unsigned = ["cognito-identity"]
  # Each endpoint's statements: its service's actions, for this account's
  # principals and, through a gateway, this account's resources. S3's gateway
  # also serves ECR's image layer bucket of the Region (the ECR user guide's VPC
  # endpoint page): pulls read it through this endpoint.
  perimeters = merge(
    { for s in var.gateway_services : "gateway/${s}" => concat(
      [{ sid = "ThisAccountsPrincipalsAndResources", actions = ["${s}:*"], resources = ["*"], own_resources = true }],
      s != "s3" ? [] : [{ sid = "EcrImageLayers", actions = ["s3:GetObject"], resources = ["arn:aws:s3:::prod-${var.region}-starport-layer-bucket/*"], own_resources = false }],
    ) },
    { for s in setsubtract(var.interface_services, local.unsigned) : "interface/${s}" => [
      # ecr.api and ecr.dkr both serve ecr:*
      { sid = "ThisAccountsPrincipals", actions = ["${split(".", s)[0]}:*"], resources = ["*"], own_resources = false },
    ] },
  )
}

data "aws_iam_policy_document" "perimeter" {
  for_each = local.perimeters

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalAccount"
        values   = [var.account_id]
      }

      dynamic "condition" {
        for_each = statement.value.own_resources ? [true] : []
        content {
          test     = "StringEquals"
          variable = "aws:ResourceAccount"
          values   = [var.account_id]
        }
      }
    }
  }
}

resource "aws_vpc_endpoint" "gateway" {
  for_each = toset(var.gateway_services)

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.private_route_table_ids
  policy            = data.aws_iam_policy_document.perimeter["gateway/${each.key}"].json

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_security_group" "endpoints" {
  name_prefix = "${var.name}-endpoints-"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-endpoints" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "https_from_vpc" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr

  tags = var.tags
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_services)

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  policy              = contains(local.unsigned, each.key) ? null : data.aws_iam_policy_document.perimeter["interface/${each.key}"].json

  tags = merge(var.tags, { Name = "${var.name}-${replace(each.key, ".", "-")}" })
}
