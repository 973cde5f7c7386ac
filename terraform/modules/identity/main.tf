# A tenant's identity: a dedicated Cognito user pool with its app client
# (advanced, premium, and the shared pool itself), or a group in the shared pool
# (basic). Users carry custom:tenantId, custom:tenantTier and custom:userRole.

locals {
  dedicated = var.shared_user_pool_id == null
  # The app may read the custom attributes but never write them: only the
  # control plane (admin API) sets a user's tenant, tier and role.
  standard_attributes = ["email", "email_verified", "name"]
  custom_attributes   = ["custom:tenantId", "custom:tenantTier", "custom:userRole"]
}

resource "aws_cognito_user_pool" "this" {
  count = local.dedicated ? 1 : 0

  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  # A changed email address counts only once its owner verified it: no one takes
  # over an address (and its password resets) by typing it in.
  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
  }
  mfa_configuration   = var.mfa_configuration
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [true]
    content {
      enabled = true
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = true # tenants' users are created by their admin
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_numbers                  = true
    require_symbols                  = true
    require_uppercase                = true
    temporary_password_validity_days = 7
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  user_pool_add_ons {
    advanced_security_mode = var.advanced_security_mode
  }

  schema {
    name                = "tenantId"
    attribute_data_type = "String"
    mutable             = false # a user never moves to another tenant
    string_attribute_constraints {
      min_length = "3"
      max_length = "32"
    }
  }

  schema {
    name                = "tenantTier"
    attribute_data_type = "String"
    mutable             = true # tier changes rewrite it
    string_attribute_constraints {
      min_length = "1"
      max_length = "16"
    }
  }

  schema {
    name                = "userRole"
    attribute_data_type = "String"
    mutable             = true
    string_attribute_constraints {
      min_length = "1"
      max_length = "32"
    }
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_client" "this" {
  count = local.dedicated ? 1 : 0

  name                          = "${var.name}-app"
  user_pool_id                  = aws_cognito_user_pool.this[0].id
  generate_secret               = false # a browser or mobile app keeps no secret
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  read_attributes               = concat(local.standard_attributes, local.custom_attributes)
  write_attributes              = ["email", "name"]
  access_token_validity         = 60
  id_token_validity             = 60
  refresh_token_validity        = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

resource "aws_cognito_user_group" "tenant" {
  count = local.dedicated ? 0 : 1

  name         = var.name
  user_pool_id = var.shared_user_pool_id
  description  = "Users of tenant ${coalesce(var.tenant_id, var.name)}"
}
