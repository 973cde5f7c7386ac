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
  value       = aws_lb_listener_rule.this.priority
}
