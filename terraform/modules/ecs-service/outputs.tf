output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "target_group_arn" {
  description = "ARN of the service's target group."
  value       = aws_lb_target_group.this.arn
}

output "security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.this.id
}

output "task_definition_arn" {
  description = "ARN of the task definition revision."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the task role (attach the application's own permissions here)."
  value       = aws_iam_role.task.arn
}

output "listener_priority" {
  description = "Priority of the service's listener rule."
  value       = var.listener_priority
}

output "cluster_arn" {
  description = "ARN of the cluster the service runs on."
  value       = aws_ecs_service.this.cluster
}

output "alarm_names" {
  description = "The service's deployment alarms (ECS rolls back in ALARM; saasctl's release health gates read them)."
  value       = [aws_cloudwatch_metric_alarm.target_5xx.alarm_name, aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name]
}

output "deployment_strategy" {
  description = "ROLLING, BLUE_GREEN, CANARY or LINEAR."
  value       = var.deployment_strategy
}

output "tenant_role_arn" {
  description = "The tenant-scoped role: assumed by the task with its tenant's tag (dedicated), or obtained through the identity pool (pooled); null without tenant_data."
  value       = var.tenant_data == null ? null : aws_iam_role.tenant[0].arn
}

output "tenant_identity_pool_id" {
  description = "Pooled: the Cognito identity pool that exchanges a user's ID token for a session of the tenant-scoped role tagged with the token's custom:tenantId; null otherwise."
  value       = local.pooled ? aws_cognito_identity_pool.tenant[0].id : null
}
