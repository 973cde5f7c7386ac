variable "name" {
  description = "Name prefix."
  type        = string
}

variable "region" {
  description = "AWS region of the VPC (endpoint service names are regional)."
  type        = string
}

variable "account_id" {
  description = "The environment's AWS account: the only principals (and, through the gateways, the only buckets and tables) the endpoints serve."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The value of account_id must be 12 digits."
  }
}

variable "vpc_id" {
  description = "VPC to create the endpoints in."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the only source allowed to reach interface endpoints."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets for the interface endpoints' network interfaces."
  type        = list(string)
}

variable "private_route_table_ids" {
  description = "Route tables that get the gateway endpoints (S3, DynamoDB)."
  type        = list(string)
}

variable "gateway_services" {
  description = "Services reached through gateway endpoints."
  type        = list(string)
  default     = ["s3", "dynamodb"]

  validation {
    condition     = length(setsubtract(var.gateway_services, ["s3", "dynamodb"])) == 0
    error_message = "Only s3 and dynamodb have gateway endpoints."
  }
}

variable "interface_services" {
  description = "Services reached through interface endpoints with private DNS."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages", "secretsmanager", "sts", "cognito-identity"]
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
