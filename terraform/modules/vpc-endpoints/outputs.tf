output "gateway_endpoint_ids" {
  description = "Gateway endpoint IDs by service."
  value       = { for k, e in aws_vpc_endpoint.gateway : k => e.id }
}

output "interface_endpoint_ids" {
  description = "Interface endpoint IDs by service."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for egress rules), if created."
  value       = try(aws_vpc_endpoint.gateway["s3"].prefix_list_id, null)
}

output "egress" {
  description = "Where tasks reach AWS on 443: the interface endpoints' security group and the gateway endpoints' prefix lists by service (ecs-service's `endpoints`)."
  value = {
    security_group_id = aws_security_group.endpoints.id
    prefix_list_ids   = { for k, e in aws_vpc_endpoint.gateway : k => e.prefix_list_id }
  }
}
