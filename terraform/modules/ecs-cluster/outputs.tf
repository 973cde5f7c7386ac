output "arn" {
  description = "ARN of the cluster."
  value       = aws_ecs_cluster.this.arn
}

output "name" {
  description = "Name of the cluster."
  value       = aws_ecs_cluster.this.name
}

output "exec_log_group_name" {
  description = "Log group of ECS Exec sessions."
  value       = aws_cloudwatch_log_group.exec.name
}
