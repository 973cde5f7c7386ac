output "arn" {
  description = "ARN of the ALB."
  value       = aws_lb.this.arn
}

output "dns_name" {
  description = "DNS name of the ALB."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 zone ID of the ALB (for alias records)."
  value       = aws_lb.this.zone_id
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener."
  value       = aws_lb_listener.https.arn
}

output "security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.this.id
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer (app/<name>/<id>): the dimension of CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}
