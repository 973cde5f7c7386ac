# Values as AWS shapes them: task definition revisions, id formats, zone ids of the
# configured region, addresses and ranges that functions can compute with.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}


resource "aws_ecs_task_definition" "app" {
  family = "app"
  container_definitions = jsonencode([{
    name  = "app"
    image = "nginx:1.27"
  }])
}

resource "aws_instance" "bastion" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
}

resource "aws_vpc" "v6" {
  cidr_block                       = "10.50.0.0/16"
  assign_generated_ipv6_cidr_block = true
}

resource "aws_subnet" "v6" {
  vpc_id          = aws_vpc.v6.id
  cidr_block      = "10.50.1.0/24"
  ipv6_cidr_block = cidrsubnet(aws_vpc.v6.ipv6_cidr_block, 8, 1)
}

output "checks" {
  value = {
    revision_is_1           = aws_ecs_task_definition.app.revision == 1
    arn_ends_in_revision    = can(regex(":task-definition/app:1$", aws_ecs_task_definition.app.arn))
    arn_without_revision    = aws_ecs_task_definition.app.arn_without_revision == trimsuffix(aws_ecs_task_definition.app.arn, ":1")
    instance_id             = can(regex("^i-[0-9a-f]{17}$", aws_instance.bastion.id))
    instance_zone_in_region = can(regex("^ap-southeast-2", aws_instance.bastion.availability_zone))
    private_ip              = can(cidrhost("${aws_instance.bastion.private_ip}/32", 0))
    ipv6_range              = can(cidrsubnet(aws_vpc.v6.ipv6_cidr_block, 8, 1))
    subnet_zone_id          = can(regex("^apse2-az", aws_subnet.v6.availability_zone_id))
  }
}
