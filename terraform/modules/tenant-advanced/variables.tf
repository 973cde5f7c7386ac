variable "tenant_id" {
  description = "The tenant's id."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the tenant's AWS resource names (fits AWS name limits)."
  type        = string
}

variable "host" {
  description = "The tenant's host name: <tenant>.<domain>."
  type        = string
}

variable "listener_priority" {
  description = "First priority of the tenant's block of listener rule priorities."
  type        = number
}

variable "services" {
  description = "The application's services."
  type = list(object({
    name              = string
    image             = string
    port              = number
    path              = string
    health_check_path = string
    tables            = list(string)
  }))
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}

variable "shared" {
  description = "Outputs of the environment's shared stack."
  type = object({
    vpc_id                 = string
    private_subnet_ids     = list(string)
    https_listener_arn     = string
    alb_security_group_id  = string
    pool_cluster_arn       = string
    advanced_cluster_arn   = string
    pool_target_group_arns = map(string)
    log_group_name         = string
    alb_arn_suffix         = string
  })
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
}

variable "memory" {
  description = "Task memory (MiB)."
  type        = number
}

variable "desired_count" {
  description = "Tasks per service."
  type        = number
}

variable "min_capacity" {
  description = "Autoscaling minimum tasks per service."
  type        = number
}

variable "max_capacity" {
  description = "Autoscaling maximum tasks per service."
  type        = number
}

variable "deployment_strategy" {
  description = "How a release reaches the tenant's services: ROLLING, BLUE_GREEN, CANARY or LINEAR (ECS native)."
  type        = string

  validation {
    condition     = contains(["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"], var.deployment_strategy)
    error_message = "Use ROLLING, BLUE_GREEN, CANARY or LINEAR."
  }
}

variable "deployment_bake_minutes" {
  description = "Minutes ECS keeps the old tasks after a traffic-shifting deployment, ready to roll back."
  type        = number
}

variable "identity" {
  description = "The tenant's identity: shared (a group in the environment's user pool) or dedicated (a pool of its own)."
  type        = string
}

variable "deletion_protection" {
  description = "Deletion protection of the tenant's own user pool and tables; saasctl turns it off only to offboard, after exporting their data."
  type        = bool
}

variable "endpoints" {
  description = "Where the tenant's tasks reach AWS (the shared stack's `endpoints` output); wired from its state, null for a shared stack from before it had one (tasks then keep HTTPS to anywhere until it is applied)."
  type = object({
    security_group_id = string
    prefix_list_ids   = map(string)
  })
}

variable "shared_user_pool_id" {
  description = "The environment's shared user pool (null when it has none); wired from the shared stack's outputs."
  type        = string
}

variable "tables" {
  description = "The tenant's own DynamoDB tables (dedicated data)."
  type        = list(string)
}

variable "tenant_log_group_prefix" {
  description = "The shared stack's `tenant_log_group_prefix` output, for the pool's logs of basic tenants. A dedicated tenant logs to a group of its own (log_group_name): accepted so every tier is wired alike."
  type        = string
  default     = null
}

variable "config" {
  description = "The tenant's configuration, of the config version its services run (saasctl renders it): the SSM parameter's name, the JSON document it holds and the version. A new version changes the task definitions, so it deploys through the release health gates. Null: none delivered."
  type = object({
    version   = string
    parameter = string
    document  = string
  })
  default = null
}
