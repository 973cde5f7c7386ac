variable "name_prefix" {
  description = "Prefix of the tenant's AWS resource names."
  type        = string
}

variable "tenant_id" {
  description = "The tenant's id."
  type        = string
}

variable "account_id" {
  description = "The AWS account."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tenant's services (for the mesh security group)."
  type        = string
}

variable "identity" {
  description = "shared: a group in the environment's shared user pool; dedicated: a user pool of its own."
  type        = string

  validation {
    condition     = contains(["shared", "dedicated"], var.identity)
    error_message = "The value of identity must be shared or dedicated."
  }
}

variable "shared_user_pool_id" {
  description = "The environment's shared user pool (used when identity is shared)."
  type        = string
  default     = null
}

variable "tables" {
  description = "Tables of the tenant's own (dedicated data); empty when its data is pooled."
  type        = list(string)
  default     = []
}

variable "service_connect" {
  description = "Create a Service Connect namespace and mesh security group for the tenant's own services."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Deletion protection of the dedicated user pool and tables (saasctl lifts it after exporting their data)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
