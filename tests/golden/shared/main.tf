# Rendered by saasctl from templates/shared/main.tf.j2: do not edit by hand.
# Values live in terraform.tfvars.json; change env.yaml and run `saasctl render`.

terraform {
  required_version = ">= 1.0.0"
}

variable "name" {
  type = any
}

variable "region" {
  type = any
}

variable "account_id" {
  type = any
}

variable "domain" {
  type = any
}

variable "vpc_cidr" {
  type = any
}

variable "azs" {
  type = any
}

variable "single_nat_gateway" {
  type = any
}

variable "certificate_arn" {
  type = any
}

variable "allowed_cidrs" {
  type = any
}

variable "services" {
  type = any
}

variable "pool" {
  type = any
}

variable "tier_rate_limits" {
  type = any
}

variable "ip_rate_limit" {
  type = any
}

variable "suspended_hosts" {
  type = any
}

variable "tags" {
  type = any
}

variable "pool_tables" {
  type = any
}

variable "shared_user_pool" {
  type = any
}

variable "tenant_configs" {
  type = any
}

variable "saasctl_config_digest" {
  description = "Digest of the rendered files, kept in state to tell applied from drifted."
  type        = string
}

module "shared" {
  source = "../../../modules/standins/shared-stack"

  name               = var.name
  region             = var.region
  account_id         = var.account_id
  domain             = var.domain
  vpc_cidr           = var.vpc_cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
  certificate_arn    = var.certificate_arn
  allowed_cidrs      = var.allowed_cidrs
  services           = var.services
  pool               = var.pool
  tier_rate_limits   = var.tier_rate_limits
  ip_rate_limit      = var.ip_rate_limit
  suspended_hosts    = var.suspended_hosts
  tags               = var.tags
  pool_tables        = var.pool_tables
  shared_user_pool   = var.shared_user_pool
  tenant_configs     = var.tenant_configs
}

output "vpc_id" {
  value = module.shared.vpc_id
}

output "private_subnet_ids" {
  value = module.shared.private_subnet_ids
}

output "public_subnet_ids" {
  value = module.shared.public_subnet_ids
}

output "alb_arn" {
  value = module.shared.alb_arn
}

output "alb_dns_name" {
  value = module.shared.alb_dns_name
}

output "https_listener_arn" {
  value = module.shared.https_listener_arn
}

output "alb_security_group_id" {
  value = module.shared.alb_security_group_id
}

output "waf_web_acl_arn" {
  value = module.shared.waf_web_acl_arn
}

output "pool_cluster_arn" {
  value = module.shared.pool_cluster_arn
}

output "advanced_cluster_arn" {
  value = module.shared.advanced_cluster_arn
}

output "pool_target_group_arns" {
  value = module.shared.pool_target_group_arns
}

output "log_group_name" {
  value = module.shared.log_group_name
}

output "alb_arn_suffix" {
  value = module.shared.alb_arn_suffix
}

output "pool_services" {
  value = module.shared.pool_services
}

output "user_pool_id" {
  value = module.shared.user_pool_id
}

output "user_pool_client_id" {
  value = module.shared.user_pool_client_id
}

output "pool_tables" {
  value = module.shared.pool_tables
}

output "endpoints" {
  value = module.shared.endpoints
}

output "tenant_log_group_prefix" {
  value = module.shared.tenant_log_group_prefix
}

output "saasctl_config_digest" {
  value = var.saasctl_config_digest
}
