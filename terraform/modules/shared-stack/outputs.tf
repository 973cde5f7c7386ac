output "vpc_id" {
  description = "VPC id."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnet ids, one per AZ."
  value       = module.vpc.private_subnet_ids
}

output "public_subnet_ids" {
  description = "Public subnet ids, one per AZ."
  value       = module.vpc.public_subnet_ids
}

output "alb_arn" {
  description = "ARN of the shared ALB."
  value       = module.alb.arn
}

output "alb_dns_name" {
  description = "DNS name of the shared ALB."
  value       = module.alb.dns_name
}

output "https_listener_arn" {
  description = "ARN of the ALB's HTTPS listener (tenants attach rules to it)."
  value       = module.alb.https_listener_arn
}

output "alb_security_group_id" {
  description = "Security group of the ALB (services allow ingress from it only)."
  value       = module.alb.security_group_id
}

output "waf_web_acl_arn" {
  description = "ARN of the WAF web ACL associated with the ALB."
  value       = module.waf.web_acl_arn
}

output "pool_cluster_arn" {
  description = "ARN of the pool cluster (basic tier)."
  value       = module.pool_cluster.arn
}

output "advanced_cluster_arn" {
  description = "ARN of the shared cluster of the advanced tier."
  value       = module.advanced_cluster.arn
}

output "pool_target_group_arns" {
  description = "Target group ARN of each pooled service, by service name."
  value       = { for name, s in module.pool_service : name => s.target_group_arn }
}

output "log_group_name" {
  description = "CloudWatch log group of the services."
  value       = aws_cloudwatch_log_group.services.name
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>): the dimension of CloudWatch metrics."
  value       = module.alb.arn_suffix
}

output "pool_services" {
  description = "The pooled services, by service name: what saasctl's release health gates watch."
  value = {
    for name, s in module.pool_service : name => {
      service_name        = s.service_name
      cluster_arn         = s.cluster_arn
      alarm_names         = s.alarm_names
      task_definition_arn = s.task_definition_arn
    }
  }
}

output "user_pool_id" {
  description = "The shared user pool (tenants with shared identity have a group in it); null without one."
  value       = var.shared_user_pool ? module.identity[0].user_pool_id : null
}

output "user_pool_client_id" {
  description = "App client of the shared user pool; null without one."
  value       = var.shared_user_pool ? module.identity[0].client_id : null
}

output "pool_tables" {
  description = "Pooled tables by table (items keyed by tenantId)."
  value       = length(var.pool_tables) > 0 ? module.pool_data[0].table_names : {}
}

output "endpoints" {
  description = "Where tasks reach AWS on 443: the VPC endpoints' security group and the gateway endpoints' prefix lists (tenant services' only way out)."
  value       = module.endpoints.egress
}

output "tenant_log_group_prefix" {
  description = "Where each basic tenant's share of the pool's logs goes: this prefix and the tenant's id (the tenant's workspace creates that group)."
  value       = local.tenant_log_prefix
}
