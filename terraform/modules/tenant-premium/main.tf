# Tier premium (silo): a dedicated ECS cluster with the tenant's own services,
# target groups and autoscaling, with host rules on the shared ALB
# (services.tf: tenant-advanced's, through a symlink).

module "cluster" {
  source = "../ecs-cluster"

  name = var.name_prefix
  tags = var.tags
}

locals {
  cluster_arn = module.cluster.arn
}
