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
  description = "The application's services (their images run in the pool)."
  type = list(object({
    name              = string
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
  })
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
  description = "Where the tenant's tasks reach AWS (the shared stack's `endpoints` output); wired from its state, null for a shared stack from before it had one (tasks then keep HTTPS to anywhere until it is applied). Basic tenants have no services of their own (the pool's are the shared stack's): accepted so every tier is wired alike."
  type = object({
    security_group_id = string
    prefix_list_ids   = map(string)
  })
}

variable "shared_user_pool_id" {
  description = "The environment's shared user pool (null when it has none); wired from the shared stack's outputs."
  type        = string
}

variable "tenant_log_group_prefix" {
  description = "Where the pool's services put each tenant's container logs (the shared stack's `tenant_log_group_prefix` output): this tenant's log group is this prefix and its id. Wired from its state; null for a shared stack from before it split logs (no group)."
  type        = string
  default     = null
}
