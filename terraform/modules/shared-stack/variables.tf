variable "name" {
  description = "Name prefix of the environment's shared resources."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "account_id" {
  description = "AWS account id the environment lives in."
  type        = string
}

variable "domain" {
  description = "Domain under which tenants get <tenant>.<domain>."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "azs" {
  description = "Availability zones (2 or 3)."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs instead of one per AZ."
  type        = bool
}

variable "certificate_arn" {
  description = "ACM certificate for the ALB's HTTPS listener."
  type        = string
}

variable "allowed_cidrs" {
  description = "CIDRs allowed to reach the ALB on 80/443."
  type        = list(string)
}

variable "services" {
  description = "The application's services (pooled for the basic tier)."
  type = list(object({
    name              = string
    image             = string
    port              = number
    path              = string
    health_check_path = string
    tables            = list(string)
  }))
}

variable "pool" {
  description = "Sizing of the basic tier's pooled services."
  type = object({
    cpu           = number
    memory        = number
    desired_count = number
    min_capacity  = number
    max_capacity  = number
  })
}

variable "tier_rate_limits" {
  description = "WAF requests per 5 minutes allowed per tenant host, by tier, with the tier's tenant hosts (the pooled tier, `pool = true`, covers every other host)."
  type = map(object({
    limit = number
    hosts = list(string)
    pool  = bool
  }))
}

variable "ip_rate_limit" {
  description = "WAF requests per 5 minutes allowed per client IP address, whatever the host."
  type        = number
}

variable "suspended_hosts" {
  description = "Hosts of suspended tenants: the web ACL answers them 503 with a short page, whatever the listener."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}

variable "pool_tables" {
  description = "Pooled DynamoDB tables of the basic tier's tenants (keyed by tenantId); empty for none."
  type        = list(string)
}

variable "shared_user_pool" {
  description = "Create the shared Cognito user pool that tenants with shared identity get a group in."
  type        = bool
}

variable "tenant_configs" {
  description = "The basic tenants' configuration, of the config version the pool runs (saasctl renders it): version, parameter name prefix and each tenant's JSON document (one parameter each, <prefix><tenant>/config). Null: none delivered."
  type = object({
    version   = string
    prefix    = string
    documents = map(string)
  })
  default = null
}
