variable "name" {
  description = "Name of the web ACL."
  type        = string
}

variable "resource_arn" {
  description = "ARN of the ALB to protect."
  type        = string
}

variable "managed_rule_groups" {
  description = "AWS managed rule groups, evaluated in this order."
  type        = list(string)
  default = [
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
  ]

  validation {
    condition     = length(var.managed_rule_groups) <= 40
    error_message = "At most 40 managed rule groups: priority 40 is the suspended tenants' rule."
  }
}

variable "count_only_groups" {
  description = "Managed groups to run in count mode instead of block (e.g. while tuning)."
  type        = list(string)
  default     = []
}

variable "tier_rate_limits" {
  description = "Requests per 5 minutes allowed per tenant host, by tier, with the tier's tenant hosts; the tier with `pool = true` covers every host no other tier lists. One rate-based rule per tier, so onboarding a pooled tenant changes nothing here."
  type = map(object({
    limit = number
    hosts = list(string)
    pool  = bool
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.tier_rate_limits) : t.limit >= 100])
    error_message = "AWS WAF rate limits start at 100 requests per 5 minutes."
  }

  validation {
    condition     = length([for t in values(var.tier_rate_limits) : t if t.pool]) <= 1
    error_message = "At most one tier covers the hosts no other tier lists (pool = true)."
  }
}

variable "ip_rate_limit" {
  description = "Requests per 5 minutes allowed per client IP address over the whole web ACL, whatever the host (null: no such rule). Requests without a Host header escape the per-host rules; this one counts them."
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the WAF log group, in days."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for the WAF log group; null uses the service-managed key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "suspended_hosts" {
  description = "Hosts of suspended tenants: blocked before any other rule but the managed groups, with a 503 and suspended_page."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.suspended_hosts : can(regex("^[a-z0-9.-]{1,253}$", h))])
    error_message = "Each suspended host is a lower-case DNS name."
  }
}

variable "suspended_page" {
  description = "The HTML a suspended tenant's users get (with status 503)."
  type        = string
  default     = "<!doctype html><title>Service suspended</title><h1>This service is suspended</h1><p>Please contact your provider.</p>"
}
