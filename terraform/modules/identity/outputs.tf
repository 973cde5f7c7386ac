output "user_pool_id" {
  description = "The tenant's user pool: its own, or the shared one."
  value       = local.dedicated ? aws_cognito_user_pool.this[0].id : var.shared_user_pool_id
}

output "user_pool_arn" {
  description = "ARN of the dedicated pool; null for a group in the shared pool."
  value       = local.dedicated ? aws_cognito_user_pool.this[0].arn : null
}

output "client_id" {
  description = "App client of the dedicated pool; null for a group (the shared pool's client serves it)."
  value       = local.dedicated ? aws_cognito_user_pool_client.this[0].id : null
}

output "issuer" {
  description = "Token issuer of the dedicated pool (the authorizer's allow-list entry); null for a group."
  value       = local.dedicated ? "https://${aws_cognito_user_pool.this[0].endpoint}" : null
}

output "provider_name" {
  description = "The dedicated pool as a Cognito identity pool names its provider (cognito-idp.REGION.amazonaws.com/POOL_ID); null for a group."
  value       = local.dedicated ? aws_cognito_user_pool.this[0].endpoint : null
}

output "group_name" {
  description = "The tenant's group in the shared pool; null for a dedicated pool."
  value       = local.dedicated ? null : aws_cognito_user_group.tenant[0].name
}
