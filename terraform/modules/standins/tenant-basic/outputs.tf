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
  value       = { for name, r in null_resource.listener_rule : name => tonumber(r.triggers.priority) }
}

output "services" {
  description = "Services of the tenant's own: none (basic tenants run on the pool's, see pool_services)."
  value       = {}
}

output "identity" {
  description = "The tenant's user pool, app client, token issuer and group (the group only in a shared pool)."
  value       = { user_pool_id = null, client_id = null, issuer = null, group_name = null } # stand-ins create no pool
}

output "table_names" {
  description = "The tenant's own tables, by table; empty when its data is pooled."
  value       = {} # stand-ins create no table
}

output "log_group_name" {
  description = "Stand-in: no log group is created; null as the real module's when nothing splits the logs."
  value       = null
}
