variable "name" {
  description = "Name of the load balancer (at most 32 characters)."
  type        = string

  validation {
    condition     = length(var.name) <= 32
    error_message = "ALB names are limited to 32 characters."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the ALB may only send traffic into it."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets (one per AZ) for the internet-facing ALB."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (default: AWS's recommended TLS 1.3/1.2 policy with post-quantum key exchange and restricted ciphers)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
}

variable "allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach the ALB on 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "access_logs_bucket" {
  description = "S3 bucket receiving the ALB's access logs."
  type        = string
}

variable "access_logs_prefix" {
  description = "Key prefix of the access logs."
  type        = string
  default     = "alb"
}

variable "deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
  default     = true
}

variable "idle_timeout" {
  description = "Idle timeout in seconds."
  type        = number
  default     = 60
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
