variable "name" {
  description = "Name of the ECS cluster."
  type        = string
}

variable "container_insights" {
  description = "Container Insights: enabled, enhanced or disabled."
  type        = string
  default     = "enabled"

  validation {
    condition     = contains(["enabled", "enhanced", "disabled"], var.container_insights)
    error_message = "Use enabled, enhanced or disabled."
  }
}

variable "capacity_provider_strategy" {
  description = "Default strategy over FARGATE and FARGATE_SPOT (base applies to one provider only)."
  type = list(object({
    capacity_provider = string
    weight            = number
    base              = number
  }))
  default = [
    { capacity_provider = "FARGATE", weight = 1, base = 1 },
  ]

  validation {
    condition     = alltrue([for s in var.capacity_provider_strategy : contains(["FARGATE", "FARGATE_SPOT"], s.capacity_provider)])
    error_message = "Capacity providers are FARGATE and FARGATE_SPOT."
  }
}

variable "exec_log_retention_days" {
  description = "Retention of the ECS Exec session log group, in days."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for ECS Exec sessions and their logs; null uses service-managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
