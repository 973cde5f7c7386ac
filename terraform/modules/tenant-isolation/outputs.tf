output "identity" {
  description = "The tenant's user pool, app client, token issuer and group (the group only in a shared pool)."
  value = {
    user_pool_id = module.identity.user_pool_id
    client_id    = module.identity.client_id
    issuer       = module.identity.issuer
    group_name   = module.identity.group_name
  }
}

output "table_names" {
  description = "The tenant's own tables, by table; empty when its data is pooled."
  value       = length(module.data) > 0 ? module.data[0].table_names : {}
}

output "table_arns" {
  description = "ARNs of the tenant's own tables, by table."
  value       = length(module.data) > 0 ? module.data[0].table_arns : {}
}

output "service_connect" {
  description = "Namespace and mesh security group of the tenant's services; null without Service Connect."
  value = var.service_connect ? {
    namespace_arn          = aws_service_discovery_http_namespace.this[0].arn
    mesh_security_group_id = aws_security_group.mesh[0].id
  } : null
}
