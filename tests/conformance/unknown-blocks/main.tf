# Nested blocks whose whole value is unknown at plan time: a dynamic block over a
# set built from ids that exist only after apply.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


resource "aws_vpc" "this" {
  cidr_block = "10.30.0.0/16"
}

resource "aws_security_group" "source" {
  name   = "source"
  vpc_id = aws_vpc.this.id
}

resource "aws_security_group" "target" {
  name   = "target"
  vpc_id = aws_vpc.this.id

  dynamic "ingress" {
    for_each = toset([aws_security_group.source.id])
    content {
      from_port       = 443
      to_port         = 443
      protocol        = "tcp"
      security_groups = [ingress.value]
    }
  }
}

resource "aws_route_table" "this" {
  vpc_id = aws_vpc.this.id

  dynamic "route" {
    for_each = toset([aws_vpc.this.id])
    content {
      cidr_block = "0.0.0.0/0"
      gateway_id = "igw-0123456789abcdef0"
    }
  }
}

output "checks" {
  value = {
    ingress_kept = one([for r in aws_security_group.target.ingress : r.security_groups]) == toset([aws_security_group.source.id])
    route_kept   = length(aws_route_table.this.route) == 1
  }
}
