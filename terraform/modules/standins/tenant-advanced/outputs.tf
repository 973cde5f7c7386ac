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
  value       = { for name, s in null_resource.service : name => "arn:aws:elasticloadbalancing:${split(":", local.cluster_arn)[3]}:${split(":", local.cluster_arn)[4]}:targetgroup/${s.triggers.name}/${substr(s.id, 0, 16)}" }
}

output "listener_rule_priorities" {
  description = "Listener rule priority of each service, by service name."
  value       = { for name, r in null_resource.listener_rule : name => tonumber(r.triggers.priority) }
}

output "services" {
  description = "The tenant's services, by service name: what saasctl's release health gates watch."
  value = {
    for name, s in null_resource.service : name => {
      service_name        = s.triggers.name
      cluster_arn         = local.cluster_arn
      alarm_names         = ["${s.triggers.name}-5xx", "${s.triggers.name}-unhealthy"]
      task_definition_arn = "${join(":", slice(split(":", local.cluster_arn), 0, 5))}:task-definition/${s.triggers.name}:1"
    }
  }
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
