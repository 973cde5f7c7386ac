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
}

variable "count_only_groups" {
  description = "Managed groups to run in count mode instead of block (e.g. while tuning)."
  type        = list(string)
  default     = []
}

variable "tenant_rate_limits" {
  description = "Rate-based rule per tenant: host header and requests allowed per 5 minutes per IP."
  type = map(object({
    host  = string
    limit = number
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.tenant_rate_limits) : t.limit >= 100])
    error_message = "AWS WAF rate limits start at 100 requests per 5 minutes."
  }
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
