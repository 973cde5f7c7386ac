variable "name" {
  description = "Name prefix for the VPC and its resources."
  type        = string
}

variable "account_id" {
  description = "AWS account id of the VPC: only its flow logs may assume the flow-logs role."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC (a /16 to /20: it is split into 16 subnets)."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 20
    error_message = "The cidr must be a valid IPv4 CIDR block between /16 and /20 (it is split into 16 subnets)."
  }
}

variable "azs" {
  description = "Availability zones to spread subnets over (2 or 3)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3
    error_message = "Give 2 or 3 availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by all AZs (cheaper) instead of one per AZ (resilient)."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group, in days."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for the flow log group; null uses the service-managed key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
