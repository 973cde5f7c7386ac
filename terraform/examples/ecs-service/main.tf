terraform {
  required_version = ">= 1.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

module "service" {
  source = "../../modules/ecs-service"

  name                  = "example-web"
  region                = "eu-west-1"
  account_id            = "111122223333"
  cluster_arn           = "arn:aws:ecs:eu-west-1:111122223333:cluster/example"
  vpc_id                = "vpc-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  alb_security_group_id = "sg-0123456789abcdef0"
  listener_arn          = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/example/0123456789abcdef/0123456789abcdef"
  listener_priority     = 100
  host_headers          = ["acme.app.example.com"]
  image                 = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0"
  ecr_repository_arns   = ["arn:aws:ecr:eu-west-1:111122223333:repository/web"]
  container_port        = 8080
  log_group_name        = "/ecs/example/services"

  # ECS native blue/green: a second target group, traffic shifted on the rule,
  # 10 minutes to roll back after the shift; alarms on 5xx and unhealthy hosts.
  deployment_strategy      = "BLUE_GREEN"
  deployment_bake_minutes  = 10
  load_balancer_arn_suffix = "app/example/0123456789abcdef"

  # Items of one tenant only, through the role the app assumes with a tenant tag;
  # calls from the tenant's other services by the name "web".
  tenant_data = {
    table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/example-acme-orders"]
    tenant_id  = "acme"
    identity   = null # a pooled service names the user pool whose tokens set the tag
  }
  service_connect = {
    namespace_arn          = "arn:aws:servicediscovery:eu-west-1:111122223333:namespace/ns-0123456789abcdef"
    discovery_name         = "web"
    mesh_security_group_id = "sg-0123456789abcdef1"
  }
}
