# Provider-defined functions (Terraform >= 1.8).
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_iam_role" "app" {
  name               = "app"
  path               = "/service/"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

locals {
  parsed = provider::aws::arn_parse(aws_iam_role.app.arn)
  built  = provider::aws::arn_build("aws", "s3", "", "", "my-bucket/key")
}

output "checks" {
  value = {
    arn_parse_service  = local.parsed.service == "iam"
    arn_parse_account  = local.parsed.account_id == "123456789012"
    arn_parse_resource = can(regex("^role/", local.parsed.resource))
    arn_build          = local.built == "arn:aws:s3:::my-bucket/key"
    trim_role_path     = provider::aws::trim_iam_role_path("arn:aws:iam::123456789012:role/service/app") == "arn:aws:iam::123456789012:role/app"
    user_agent         = provider::aws::user_agent("saasctl", "1.0", "conformance") == "saasctl/1.0 (conformance)"
  }
}
