# Two resources with the same arguments are two resources: different ids and ARNs
# (a blue/green service whose alternate target group equals its production one
# would look right when it is wrong).
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


resource "aws_vpc" "this" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_route_table" "a" {
  vpc_id = aws_vpc.this.id
}

resource "aws_route_table" "b" {
  vpc_id = aws_vpc.this.id
}

resource "aws_lb_target_group" "blue" {
  count       = 2
  port        = 80
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.this.id
}

output "checks" {
  value = {
    route_tables_differ  = aws_route_table.a.id != aws_route_table.b.id
    target_groups_differ = aws_lb_target_group.blue[0].arn != aws_lb_target_group.blue[1].arn
    ids_are_arns         = aws_lb_target_group.blue[0].id == aws_lb_target_group.blue[0].arn
  }
}
