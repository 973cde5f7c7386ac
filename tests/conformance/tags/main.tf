# tags_all is the provider's default_tags merged with the resource's tags (which
# win), on create and again on every update.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "team" {
  description = "The Team tag: default_tags has another, this one wins."
  type        = string
  default     = "core"
}


resource "aws_vpc" "this" {
  cidr_block = "10.60.0.0/16"
  tags = {
    Team = var.team
    Name = "tagged"
  }
}

output "checks" {
  value = {
    tags_all = aws_vpc.this.tags_all == tomap({ ManagedBy = "terraform", Team = var.team, Name = "tagged" })
  }
}
