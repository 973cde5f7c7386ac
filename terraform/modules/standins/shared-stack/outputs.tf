output "vpc_id" {
  description = "VPC id."
  value       = "vpc-${local.id}"
}

output "private_subnet_ids" {
  description = "Private subnet ids, one per AZ."
  value       = [for i, az in var.azs : "subnet-${substr(sha1("${local.id}/private/${az}"), 0, 17)}"]
}

output "public_subnet_ids" {
  description = "Public subnet ids, one per AZ."
  value       = [for i, az in var.azs : "subnet-${substr(sha1("${local.id}/public/${az}"), 0, 17)}"]
}

output "alb_arn" {
  description = "ARN of the shared ALB."
  value       = "arn:aws:elasticloadbalancing:${var.region}:${var.account_id}:loadbalancer/app/${var.name}/${local.id}"
}

output "alb_dns_name" {
  description = "DNS name of the shared ALB."
  value       = "${var.name}-${substr(local.id, 0, 8)}.${var.region}.elb.amazonaws.com"
}

output "https_listener_arn" {
  description = "ARN of the ALB's HTTPS listener (tenants attach rules to it)."
  value       = "arn:aws:elasticloadbalancing:${var.region}:${var.account_id}:listener/app/${var.name}/${local.id}/443"
}

output "alb_security_group_id" {
  description = "Security group of the ALB (services allow ingress from it only)."
  value       = "sg-${substr(sha1("${local.id}/alb"), 0, 17)}"
}

output "waf_web_acl_arn" {
  description = "ARN of the WAF web ACL associated with the ALB."
  value       = "arn:aws:wafv2:${var.region}:${var.account_id}:regional/webacl/${var.name}/${local.id}"
}

output "pool_cluster_arn" {
  description = "ARN of the pool cluster (basic tier)."
  value       = "arn:aws:ecs:${var.region}:${var.account_id}:cluster/${null_resource.cluster["pool"].triggers.name}"
}

output "advanced_cluster_arn" {
  description = "ARN of the shared cluster of the advanced tier."
  value       = "arn:aws:ecs:${var.region}:${var.account_id}:cluster/${null_resource.cluster["advanced"].triggers.name}"
}

output "pool_target_group_arns" {
  description = "Target group ARN of each pooled service, by service name."
  value       = { for name, s in null_resource.pool_service : name => "arn:aws:elasticloadbalancing:${var.region}:${var.account_id}:targetgroup/${var.name}-${name}/${substr(sha1(name), 0, 16)}" }
}

output "log_group_name" {
  description = "CloudWatch log group of the services."
  value       = "/ecs/${var.name}"
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>): the dimension of CloudWatch metrics."
  value       = "app/${var.name}/${substr(sha1(var.name), 0, 16)}"
}

output "pool_services" {
  description = "The pooled services, by service name: what saasctl's release health gates watch."
  value = {
    for name, s in null_resource.pool_service : name => {
      service_name        = "${var.name}-pool-${name}"
      cluster_arn         = "arn:aws:ecs:${var.region}:${var.account_id}:cluster/${null_resource.cluster["pool"].triggers.name}"
      alarm_names         = ["${var.name}-pool-${name}-5xx", "${var.name}-pool-${name}-unhealthy"]
      task_definition_arn = "arn:aws:ecs:${var.region}:${var.account_id}:task-definition/${var.name}-pool-${name}:1"
    }
  }
}

output "user_pool_id" {
  description = "The shared user pool (tenants with shared identity have a group in it); null without one."
  value       = null # stand-ins create no pool
}

output "user_pool_client_id" {
  description = "App client of the shared user pool; null without one."
  value       = null
}

output "pool_tables" {
  description = "Pooled tables by table (items keyed by tenantId)."
  value       = {} # stand-ins create no table
}

output "endpoints" {
  description = "Where tasks reach AWS on 443: the VPC endpoints' security group and the gateway endpoints' prefix lists (tenant services' only way out)."
  value = {
    security_group_id = "sg-${substr(sha1("${local.id}/endpoints"), 0, 17)}"
    prefix_list_ids   = { dynamodb = "pl-02cd2c6b", s3 = "pl-63a5400a" }
  }
}

output "tenant_log_group_prefix" {
  description = "Where each basic tenant's share of the pool's logs goes: this prefix and the tenant's id."
  value       = "/saasctl/${var.name}/tenants/"
}
