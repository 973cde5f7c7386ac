# Ephemeral resources and write-only arguments (terraform >= 1.11), as
# terraform-aws-secrets-manager uses them: a password made for this run only,
# written through `secret_string_wo`, and kept in neither plan nor state.
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}

ephemeral "random_password" "db" {
  length  = 20
  special = false
}

resource "aws_secretsmanager_secret" "db" {
  name = "conformance-ephemeral"
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id                = aws_secretsmanager_secret.db.id
  secret_string_wo         = ephemeral.random_password.db.result
  secret_string_wo_version = 1
  lifecycle {
    precondition { # ephemeral values may be checked, never stored
      condition     = can(regex("^[A-Za-z0-9]{20}$", ephemeral.random_password.db.result))
      error_message = "the ephemeral password has the asked shape"
    }
  }
}

output "checks" {
  value = {
    "ephemeral:write-only not kept" = aws_secretsmanager_secret_version.db.secret_string_wo == null
    "ephemeral:its version kept"    = aws_secretsmanager_secret_version.db.secret_string_wo_version == 1
  }
}
