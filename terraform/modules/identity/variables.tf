variable "name" {
  description = "Name of the user pool (a dedicated pool), or of the tenant's group in the shared pool."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.name))
    error_message = "The value of name must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "shared_user_pool_id" {
  description = "The shared pool to add a tenant group to (basic tier); null creates a dedicated pool with its app client."
  type        = string
  default     = null

  validation {
    condition     = var.shared_user_pool_id == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]_[0-9A-Za-z]+$", var.shared_user_pool_id))
    error_message = "The value of shared_user_pool_id must be a user pool id such as eu-west-1_AbC123."
  }
}

variable "tenant_id" {
  description = "The tenant the group is for (with shared_user_pool_id); null for a pool of its own."
  type        = string
  default     = null

  validation {
    condition     = var.tenant_id == null || can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.tenant_id))
    error_message = "The value of tenant_id must be a saasctl tenant id (3-32 lowercase letters, digits, hyphens)."
  }
}

variable "mfa_configuration" {
  description = "MFA of a dedicated pool: OFF, OPTIONAL or ON (TOTP apps)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "The value of mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "advanced_security_mode" {
  description = "Threat protection of a dedicated pool where the pool's feature plan has it (Plus): OFF, AUDIT or ENFORCED."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "The value of advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

variable "password_minimum_length" {
  description = "Minimum password length of a dedicated pool."
  type        = number
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "The value of password_minimum_length must be 8-99."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete a dedicated pool; saasctl lifts it only after the tenant's users are exported."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
