# ARNs name the right service and resource, for types outside any table too.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


resource "aws_iam_role" "fn" {
  name               = "fn"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

resource "aws_lambda_function" "fn" {
  function_name = "resize"
  role          = aws_iam_role.fn.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "${path.module}/lambda.zip"
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_sns_topic" "events" {
  name = "events"
}

resource "aws_dynamodb_table" "items" {
  name         = "items"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tenantId"
  attribute {
    name = "tenantId"
    type = "S"
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/app/logs"
}

resource "aws_kms_key" "data" {}

locals {
  lambda = split(":", aws_lambda_function.fn.arn)
}

output "checks" {
  value = {
    lambda_service    = local.lambda[2] == "lambda"
    lambda_region     = local.lambda[3] == "eu-west-2"
    lambda_name_at_6  = local.lambda[6] == "resize"
    sqs               = aws_sqs_queue.jobs.arn == "arn:aws:sqs:eu-west-2:123456789012:jobs"
    sqs_url           = can(regex("/123456789012/jobs$", aws_sqs_queue.jobs.url))
    sns               = aws_sns_topic.events.arn == "arn:aws:sns:eu-west-2:123456789012:events"
    dynamodb          = aws_dynamodb_table.items.arn == "arn:aws:dynamodb:eu-west-2:123456789012:table/items"
    logs              = aws_cloudwatch_log_group.app.arn == "arn:aws:logs:eu-west-2:123456789012:log-group:/app/logs"
    iam_has_no_region = aws_iam_role.fn.arn == "arn:aws:iam::123456789012:role/fn"
    kms_key_is_a_uuid = can(regex("^arn:aws:kms:eu-west-2:123456789012:key/[0-9a-f-]{36}$", aws_kms_key.data.arn))
  }
}
