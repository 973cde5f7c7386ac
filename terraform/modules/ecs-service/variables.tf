variable "name" {
  description = "Name of the service, task family and target group (at most 32 characters)."
  type        = string

  validation {
    condition     = length(var.name) <= 32 && can(regex("^[a-zA-Z0-9-]+$", var.name))
    error_message = "Use at most 32 letters, digits and hyphens (target group name limit)."
  }
}

variable "region" {
  description = "AWS region (for awslogs and ARNs)."
  type        = string
}

variable "account_id" {
  description = "AWS account ID (for least-privilege ARNs)."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs on."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the service and its target group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the ALB: the only allowed source of traffic to the tasks."
  type        = string
}

variable "endpoints" {
  description = "Where tasks reach AWS on 443: the VPC endpoints' security group and the gateway endpoints' prefix lists by service (vpc-endpoints' `egress` output). Null: AWS is reached through egress_cidrs."
  type = object({
    security_group_id = string
    prefix_list_ids   = map(string)
  })
  default = null
}

variable "egress_cidrs" {
  description = "Further networks tasks may connect to on 443 (a third-party API, a public registry). Null: none with endpoints, else 0.0.0.0/0."
  type        = list(string)
  default     = null
}

variable "listener_arn" {
  description = "HTTPS listener that gets the service's rule."
  type        = string
}

variable "listener_priority" {
  description = "Priority of the listener rule (unique per listener)."
  type        = number

  validation {
    condition     = var.listener_priority >= 1 && var.listener_priority <= 50000
    error_message = "Listener rule priorities are 1 to 50000."
  }
}

variable "http_header" {
  description = "Optional HTTP header condition of the listener rule."
  type = object({
    name   = string
    values = list(string)
  })
  default = null
}

variable "source_ips" {
  description = "Optional client address condition of the listener rule (CIDRs)."
  type        = list(string)
  default     = []
}

variable "host_headers" {
  description = "Host headers routed to this service (empty: any host)."
  type        = list(string)
  default     = []
}

variable "path_patterns" {
  description = "Path patterns routed to this service."
  type        = list(string)
  default     = ["/*"]
}

variable "image" {
  description = "Container image."
  type        = string
}

variable "container_port" {
  description = "Port the container listens on."
  type        = number
}

variable "cpu" {
  description = "Task CPU units (256, 512, 1024, ...)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 512
}

variable "environment" {
  description = "Plain environment variables of the container (no secrets)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Container secrets: env name -> Secrets Manager or SSM parameter ARN."
  type        = map(string)
  default     = {}
}

variable "readonly_root_filesystem" {
  description = "Mount the container's root filesystem read-only."
  type        = bool
  default     = true
}

variable "desired_count" {
  description = "Initial number of tasks (autoscaling owns it afterwards)."
  type        = number
  default     = 1
}

variable "min_capacity" {
  description = "Autoscaling minimum."
  type        = number
  default     = 1
}

variable "max_capacity" {
  description = "Autoscaling maximum."
  type        = number
  default     = 4
}

variable "cpu_target" {
  description = "Target average CPU utilisation (percent)."
  type        = number
  default     = 60
}

variable "memory_target" {
  description = "Target average memory utilisation (percent)."
  type        = number
  default     = 75
}

variable "health_check_path" {
  description = "Target group health check path."
  type        = string
  default     = "/"
}

variable "health_check_matcher" {
  description = "HTTP codes counted as healthy."
  type        = string
  default     = "200-399"
}

variable "log_group_name" {
  description = "CloudWatch log group of the containers."
  type        = string
}

variable "ecr_repository_arns" {
  description = "ECR repositories the task may pull from besides the image's own (granted from its URI when it is a private ECR image)."
  type        = list(string)
  default     = []
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into the tasks."
  type        = bool
  default     = false
}

variable "register_in_cloud_map" {
  description = "Register the tasks in the Cloud Map namespace below."
  type        = bool
  default     = false
}

variable "cloud_map_namespace_id" {
  description = "Cloud Map private DNS namespace (used when register_in_cloud_map)."
  type        = string
  default     = null
}

variable "capacity_provider" {
  description = "FARGATE or FARGATE_SPOT."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.capacity_provider)
    error_message = "Use FARGATE or FARGATE_SPOT."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "deployment_strategy" {
  description = "How a new task definition rolls out: ROLLING (circuit breaker with rollback), or ECS native BLUE_GREEN, CANARY or LINEAR (a second target group; traffic shifts on the listener rule)."
  type        = string
  default     = "ROLLING"

  validation {
    condition     = contains(["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"], var.deployment_strategy)
    error_message = "Use ROLLING, BLUE_GREEN, CANARY or LINEAR."
  }
}

variable "deployment_bake_minutes" {
  description = "Minutes ECS keeps the old tasks after the new ones take all traffic (BLUE_GREEN, CANARY, LINEAR), ready to roll back."
  type        = number
  default     = 0

  validation {
    condition     = var.deployment_bake_minutes >= 0 && var.deployment_bake_minutes <= 1440
    error_message = "Bake time is 0 to 1440 minutes."
  }
}

variable "canary_percent" {
  description = "Share of traffic the new tasks get first (CANARY)."
  type        = number
  default     = 10

  validation {
    condition     = var.canary_percent > 0 && var.canary_percent < 100
    error_message = "Canary share is between 0 and 100 percent, exclusive."
  }
}

variable "traffic_step_minutes" {
  description = "Minutes between traffic steps: after the canary share (CANARY) or after each step (LINEAR)."
  type        = number
  default     = 5

  validation {
    condition     = var.traffic_step_minutes >= 0 && var.traffic_step_minutes <= 1440
    error_message = "Step time is 0 to 1440 minutes."
  }
}

variable "linear_step_percent" {
  description = "Share of traffic moved at each step (LINEAR)."
  type        = number
  default     = 25

  validation {
    condition     = var.linear_step_percent >= 3 && var.linear_step_percent <= 100
    error_message = "Linear steps move 3 to 100 percent."
  }
}

variable "load_balancer_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>): the dimension of the deployment alarms."
  type        = string
}

variable "alarm_5xx_threshold" {
  description = "Target 5xx responses per minute that put the deployment alarm in ALARM (ECS rolls back)."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_5xx_threshold >= 1
    error_message = "The 5xx threshold is at least 1."
  }
}

variable "tenant_data" {
  description = "Tables the service reads and writes through a tenant-scoped role (items whose partition key equals the session's tenant tag). A dedicated service sets tenant_id (its task may assume the role with that tag only) and identity = null; a pooled service sets tenant_id = null and identity, the user pool (provider name, app client) whose verified tokens' custom:tenantId becomes the tag through a Cognito identity pool."
  type = object({
    table_arns = list(string)
    tenant_id  = string
    identity = object({
      provider_name = string
      client_id     = string
    })
  })
  default = null

  validation {
    condition     = var.tenant_data == null || try((var.tenant_data.tenant_id == null) == (var.tenant_data.identity != null), false)
    error_message = "The value of tenant_data needs tenant_id (dedicated) or identity (pooled), exactly one."
  }

  validation {
    condition     = var.tenant_data == null || alltrue([for a in try(var.tenant_data.table_arns, []) : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", a))])
    error_message = "The value of tenant_data.table_arns must be DynamoDB table ARNs."
  }
}

variable "service_connect" {
  description = "ECS Service Connect: the namespace the service joins, the name other services call it by, and the security group its callers share (the mesh)."
  type = object({
    namespace_arn          = string
    discovery_name         = string
    mesh_security_group_id = string
  })
  default = null

  validation {
    condition     = var.service_connect == null || can(regex("^[a-z][a-z0-9-]{0,62}$", try(var.service_connect.discovery_name, "")))
    error_message = "The value of service_connect.discovery_name must be a DNS label (lowercase letters, digits, hyphens)."
  }
}

variable "tenant_log_prefix" {
  description = "A pooled service's container logs split by tenant with FireLens (a Fluent Bit sidecar): a JSON record whose `tenant` field names a tenant goes to the log group with this prefix and that id (the tenant's own, created with it); any other record to log_group_name. Null: every record to log_group_name."
  type        = string
  default     = null

  validation {
    condition     = var.tenant_log_prefix == null || can(regex("^/[A-Za-z0-9_./-]+/$", coalesce(var.tenant_log_prefix, "x")))
    error_message = "The value of tenant_log_prefix is a log group path that starts and ends with /."
  }
}

variable "log_router_image" {
  description = "The FireLens log router's image (with tenant_log_prefix)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.34.0"
}

variable "config_parameter_arns" {
  description = "SSM parameters (ARNs, `*` allowed at the end) of tenant configuration the task role may read; the caller names them in `environment`. Empty: none."
  type        = list(string)
  default     = []
}
