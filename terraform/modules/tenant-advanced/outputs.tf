output "host" {
  description = "The tenant's host name."
  value       = var.host
}

output "cluster_arn" {
  description = "Cluster the tenant's services run on."
  value       = local.cluster_arn
}

output "target_group_arns" {
  description = "Target group of each service, by service name."
  value       = { for name, s in module.service : name => s.target_group_arn }
}

output "listener_rule_priorities" {
  description = "Listener rule priority of each service, by service name."
  value       = { for name, s in module.service : name => s.listener_priority }
}

output "services" {
  description = "The tenant's services, by service name: what saasctl's release health gates watch."
  value = {
    for name, s in module.service : name => {
      service_name        = s.service_name
      cluster_arn         = s.cluster_arn
      alarm_names         = s.alarm_names
      task_definition_arn = s.task_definition_arn
    }
  }
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
  description = "The log group of the tenant's services (kept after offboarding until its retention ends, and exported with its data)."
  value       = aws_cloudwatch_log_group.services.name
}
