output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnet IDs, in AZ order."
  value       = [for az in var.azs : aws_subnet.public[az].id]
}

output "private_subnet_ids" {
  description = "Private subnet IDs, in AZ order."
  value       = [for az in var.azs : aws_subnet.private[az].id]
}

output "private_route_table_ids" {
  description = "Private route table IDs, in AZ order."
  value       = [for az in var.azs : aws_route_table.private[az].id]
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways."
  value       = [for eip in aws_eip.nat : eip.public_ip]
}
