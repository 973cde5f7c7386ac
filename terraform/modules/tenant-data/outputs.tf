output "table_names" {
  description = "Table names by table."
  value       = { for k, t in aws_dynamodb_table.this : k => t.name }
}

output "table_arns" {
  description = "Table ARNs by table."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}

output "kms_key_arn" {
  description = "The KMS key that encrypts the tables."
  value       = local.kms_key_arn
}
