# The resource types the offline provider keeps in the local emulator when the
# provider has an endpoint: ECS, CloudWatch alarms and log groups, DynamoDB,
# Cognito, S3, SSM parameters. test_emulator_backed.py creates, changes, drifts and destroys them.
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "endpoint" {
  description = "The emulator's URL."
  type        = string
}

variable "desired_count" {
  description = "The service's desired count: changed between applies."
  type        = number
  default     = 1
}

variable "retention_in_days" {
  description = "The log group's retention: changed between applies."
  type        = number
  default     = 7
}

variable "threshold" {
  description = "The alarm's threshold: changed between applies."
  type        = number
  default     = 5
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch = var.endpoint
    cognitoidp = var.endpoint
    dynamodb   = var.endpoint
    ecs        = var.endpoint
    logs       = var.endpoint
    s3         = var.endpoint
    ssm        = var.endpoint
  }
}

resource "aws_ecs_cluster" "this" {
  name = "backed"
}

resource "aws_ecs_task_definition" "app" {
  family                   = "backed-app"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name         = "app"
    image        = "public.ecr.aws/nginx/nginx:1.27"
    essential    = true
    portMappings = [{ containerPort = 80 }]
  }])
}

resource "aws_ecs_service" "app" {
  name            = "app"
  cluster         = aws_ecs_cluster.this.arn
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets = ["subnet-0123456789abcdef0"]
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "backed-5xx"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "HTTPCode_Target_5XX_Count"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  statistic           = "Sum"
  threshold           = var.threshold
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/backed/app"
  retention_in_days = var.retention_in_days
}

resource "aws_ssm_parameter" "config" {
  name  = "/backed/tenants/acme/config"
  type  = "String"
  value = jsonencode({ version = "c1", values = { retention = var.retention_in_days } })
}

resource "aws_dynamodb_table" "items" {
  name         = "backed-items"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tenantId"

  attribute {
    name = "tenantId"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}

resource "aws_cognito_user_pool" "users" {
  name = "backed-users"

  schema {
    name                = "tenantId"
    attribute_data_type = "String"
    mutable             = true
  }
}

resource "aws_cognito_user_pool_client" "app" {
  name         = "app"
  user_pool_id = aws_cognito_user_pool.users.id
}

resource "aws_cognito_user_group" "tenant" {
  name         = "tenant-acme"
  user_pool_id = aws_cognito_user_pool.users.id
}

resource "aws_s3_bucket" "data" {
  bucket_prefix = "backed-"
  force_destroy = true
}

output "ids" {
  value = {
    cluster_arn = aws_ecs_cluster.this.arn
    task_arn    = aws_ecs_task_definition.app.arn
    service_arn = aws_ecs_service.app.id
    alarm_arn   = aws_cloudwatch_metric_alarm.errors.arn
    log_group   = aws_cloudwatch_log_group.app.arn
    table_arn   = aws_dynamodb_table.items.arn
    pool_id     = aws_cognito_user_pool.users.id
    client_id   = aws_cognito_user_pool_client.app.id
    group_id    = aws_cognito_user_group.tenant.id
    bucket      = aws_s3_bucket.data.bucket
    parameter   = aws_ssm_parameter.config.arn
  }
}
