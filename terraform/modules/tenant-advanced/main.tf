# Tier advanced: dedicated services, target groups and autoscaling on the
# environment's shared advanced cluster, with host rules on the shared ALB
# (services.tf, shared with tenant-premium).

locals {
  cluster_arn = var.shared.advanced_cluster_arn
}
