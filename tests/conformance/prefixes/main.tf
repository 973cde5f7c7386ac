# Names generated from name_prefix / bucket_prefix, or terraform-<unique> when absent.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


resource "aws_s3_bucket" "logs" {
  bucket_prefix = "logs-"
}

resource "aws_iam_role" "task" {
  name_prefix        = "task-"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

resource "aws_security_group" "unnamed" {}

output "checks" {
  value = {
    bucket_from_prefix = can(regex("^logs-", aws_s3_bucket.logs.bucket)) && length(aws_s3_bucket.logs.bucket) == 31
    bucket_is_its_id   = aws_s3_bucket.logs.id == aws_s3_bucket.logs.bucket
    bucket_arn         = aws_s3_bucket.logs.arn == "arn:aws:s3:::${aws_s3_bucket.logs.bucket}"
    role_from_prefix   = can(regex("^task-", aws_iam_role.task.name))
    role_id_is_name    = aws_iam_role.task.id == aws_iam_role.task.name
    generated_name     = can(regex("^terraform-", aws_security_group.unnamed.name))
  }
}
