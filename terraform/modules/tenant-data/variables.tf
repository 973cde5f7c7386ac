variable "name_prefix" {
  description = "Prefix of the table names: <prefix>-<table>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,200}$", var.name_prefix))
    error_message = "The value of name_prefix must be 3-200 letters, digits, '_', '-' or '.'."
  }
}

variable "account_id" {
  description = "The AWS account (the KMS key policy's administrator)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The value of account_id must be 12 digits."
  }
}

variable "tables" {
  description = "The tables, by name: the services' data. Every table is keyed by tenantId (partition) and sk (sort)."
  type        = list(string)

  validation {
    condition     = alltrue([for t in var.tables : can(regex("^[a-z][a-z0-9-]{0,30}$", t))])
    error_message = "Each table name must be 1-31 lowercase letters, digits or hyphens, starting with a letter."
  }

  validation {
    condition     = length(distinct(var.tables)) == length(var.tables)
    error_message = "Table names must be unique."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the tables; null creates one with rotation."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the tables; saasctl lifts it only after a tenant's items are exported."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
