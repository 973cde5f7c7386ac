# AWS quotas the offline provider enforces as AWS does (test_offline_limits.py):
# a web ACL's rate-based rules, and rules and unique target groups per load
# balancer (counted in the emulator, across workspaces).
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "endpoint" {
  description = "The emulator's URL."
  type        = string
}

variable "rate_rules" {
  description = "Rate-based rules in the web ACL."
  type        = number
  default     = 1
}

variable "rules" {
  description = "Listener rules on the load balancer."
  type        = number
  default     = 0
}

variable "last_rule_groups" {
  description = "Target groups the last listener rule forwards to (the others: one each)."
  type        = number
  default     = 1
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true

  endpoints {
    s3 = var.endpoint
  }
}

resource "aws_wafv2_web_acl" "this" {
  name  = "limits"
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = range(var.rate_rules)

    content {
      name     = "rate-${rule.value}"
      priority = rule.value

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = 1000
          aggregate_key_type = "IP"
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = false
        metric_name                = "rate-${rule.value}"
        sampled_requests_enabled   = false
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = false
    metric_name                = "limits"
    sampled_requests_enabled   = false
  }
}

resource "aws_lb" "this" {
  name    = "limits"
  subnets = ["subnet-00000000000000001", "subnet-00000000000000002"]
}

resource "aws_lb_listener" "this" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      status_code  = "404"
    }
  }
}

resource "aws_lb_target_group" "this" {
  count = var.rules == 0 ? 0 : var.rules + var.last_rule_groups - 1

  name        = "limits-${count.index}"
  port        = 80
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = "vpc-00000000000000001"
}

resource "aws_lb_listener_rule" "this" {
  count = var.rules

  listener_arn = aws_lb_listener.this.arn
  priority     = count.index + 1

  action {
    type = "forward"

    forward {
      dynamic "target_group" {
        for_each = range(count.index == var.rules - 1 ? var.last_rule_groups : 1)

        content {
          arn = aws_lb_target_group.this[count.index + target_group.value].arn
        }
      }
    }
  }

  condition {
    path_pattern {
      values = ["/r${count.index}/*"]
    }
  }
}
