locals {
  managed = { for i, g in var.managed_rule_groups : g => i }
  # Tiers that have a rule: the pooled one always, the others while they have tenants.
  tiers = { for i, name in sort(keys(var.tier_rate_limits)) : name => merge(var.tier_rate_limits[name], { index = i })
  if var.tier_rate_limits[name].pool || length(var.tier_rate_limits[name].hosts) > 0 }
  listed = { for name, t in local.tiers : name => t if !t.pool }
  pool   = { for name, t in local.tiers : name => t if t.pool }
  # Labels carry a request's tier from the rules that match hosts to the rate rules
  # (a rate rule's scope-down takes one plain statement).
  label_prefix = "saasctl:tier:"
  listed_label = "saasctl:listed"
}

resource "aws_wafv2_web_acl" "this" {
  #checkov:skip=CKV_AWS_192:AWSManagedRulesKnownBadInputsRuleSet (Log4j) is in managed_rule_groups by default.
  name  = var.name
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = local.managed

    content {
      name     = rule.key
      priority = rule.value

      override_action {
        dynamic "none" {
          for_each = contains(var.count_only_groups, rule.key) ? [] : [1]
          content {}
        }
        dynamic "count" {
          for_each = contains(var.count_only_groups, rule.key) ? [1] : []
          content {}
        }
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.key
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = rule.key
        sampled_requests_enabled   = true
      }
    }
  }

  # Suspended tenants: a clear 503 at the edge, on every listener of the ALB.
  # After the managed groups (0..39), before the tier labels and rate rules.
  dynamic "custom_response_body" {
    for_each = length(var.suspended_hosts) > 0 ? [1] : []

    content {
      key          = "suspended"
      content      = var.suspended_page
      content_type = "TEXT_HTML"
    }
  }

  dynamic "rule" {
    for_each = length(var.suspended_hosts) > 0 ? [var.suspended_hosts] : []

    content {
      name     = "suspended-tenants"
      priority = 40

      action {
        block {
          custom_response {
            response_code            = 503
            custom_response_body_key = "suspended"
          }
        }
      }

      statement {
        dynamic "byte_match_statement" {
          for_each = length(rule.value) == 1 ? rule.value : []

          content {
            positional_constraint = "EXACTLY"
            search_string         = byte_match_statement.value

            field_to_match {
              single_header {
                name = "host"
              }
            }

            text_transformation {
              priority = 0
              type     = "LOWERCASE"
            }
          }
        }

        dynamic "or_statement" {
          for_each = length(rule.value) > 1 ? [rule.value] : []

          content {
            dynamic "statement" {
              for_each = or_statement.value

              content {
                byte_match_statement {
                  positional_constraint = "EXACTLY"
                  search_string         = statement.value

                  field_to_match {
                    single_header {
                      name = "host"
                    }
                  }

                  text_transformation {
                    priority = 0
                    type     = "LOWERCASE"
                  }
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "suspended-tenants"
        sampled_requests_enabled   = true
      }
    }
  }

  # A tier's hosts get its label (and the label every listed host gets).
  dynamic "rule" {
    for_each = local.listed

    content {
      name     = "tier-${rule.key}"
      priority = 50 + rule.value.index

      action {
        count {}
      }

      rule_label {
        name = "${local.label_prefix}${rule.key}"
      }

      rule_label {
        name = local.listed_label
      }

      statement {
        dynamic "byte_match_statement" {
          for_each = length(rule.value.hosts) == 1 ? rule.value.hosts : []

          content {
            positional_constraint = "EXACTLY"
            search_string         = byte_match_statement.value

            field_to_match {
              single_header {
                name = "host"
              }
            }

            text_transformation {
              priority = 0
              type     = "LOWERCASE"
            }
          }
        }

        dynamic "or_statement" {
          for_each = length(rule.value.hosts) > 1 ? [rule.value.hosts] : []

          content {
            dynamic "statement" {
              for_each = or_statement.value

              content {
                byte_match_statement {
                  positional_constraint = "EXACTLY"
                  search_string         = statement.value

                  field_to_match {
                    single_header {
                      name = "host"
                    }
                  }

                  text_transformation {
                    priority = 0
                    type     = "LOWERCASE"
                  }
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "tier-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  # Every host no tier lists is the pooled tier's: its tenants come and go without
  # a change here.
  dynamic "rule" {
    for_each = local.pool

    content {
      name     = "tier-${rule.key}"
      priority = 80

      action {
        count {}
      }

      rule_label {
        name = "${local.label_prefix}${rule.key}"
      }

      statement {
        not_statement {
          statement {
            label_match_statement {
              scope = "LABEL"
              key   = local.listed_label
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "tier-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  # One rate-based rule per tier: a separate count per (lower-cased) host, so each
  # tenant keeps its own limit without a rule of its own.
  dynamic "rule" {
    for_each = local.tiers

    content {
      name     = "rate-${rule.key}"
      priority = 100 + rule.value.index

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = rule.value.limit
          aggregate_key_type = "CUSTOM_KEYS"

          custom_key {
            header {
              name = "host"

              text_transformation {
                priority = 0
                type     = "LOWERCASE"
              }
            }
          }

          scope_down_statement {
            label_match_statement {
              scope = "LABEL"
              key   = "${local.label_prefix}${rule.key}"
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "rate-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  # Per client address, whatever the host: covers requests the per-host rules do
  # not count (no Host header) and keys past a rule's 10,000.
  dynamic "rule" {
    for_each = var.ip_rate_limit == null ? [] : [var.ip_rate_limit]

    content {
      name     = "rate-ip"
      priority = 120

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = rule.value
          aggregate_key_type = "IP"
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "rate-ip"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# WAF only logs to log groups whose name starts with aws-waf-logs-.
resource "aws_cloudwatch_log_group" "this" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = var.resource_arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}
