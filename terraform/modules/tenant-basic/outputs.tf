output "host" {
  description = "The tenant's host name."
  value       = var.host
}

output "cluster_arn" {
  description = "Cluster the tenant's services run on."
  value       = var.shared.pool_cluster_arn
}

output "target_group_arns" {
  description = "Target group of each service, by service name."
  value       = var.shared.pool_target_group_arns
}

output "listener_rule_priorities" {
  description = "Listener rule priority of each service, by service name."
  value       = { for name, r in aws_lb_listener_rule.this : name => r.priority }
}

output "services" {
  description = "Services of the tenant's own: none (basic tenants run on the pool's, see pool_services)."
  value       = {}
}

output "identity" {
  description = "The tenant's user pool, app client, token issuer and group (the group only in a shared pool)."
  value       = module.isolation.identity
}

output "table_names" {
  description = "The tenant's own tables, by table; empty when its data is pooled."
  value       = module.isolation.table_names
}

output "log_group_name" {
  description = "The tenant's log group: its records of the pool's services (null when the shared stack does not split them)."
  value       = try(aws_cloudwatch_log_group.tenant[0].name, null)
}
