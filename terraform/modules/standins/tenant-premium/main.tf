# STAND-IN for terraform/modules/tenant-premium (testing only): null resources with
# the same interface; creates nothing in AWS. Services: services.tf, the
# tenant-advanced stand-in's.

locals {
  cluster_arn = "arn:aws:ecs:${split(":", var.shared.advanced_cluster_arn)[3]}:${split(":", var.shared.advanced_cluster_arn)[4]}:cluster/${null_resource.cluster.triggers.name}"
}

resource "null_resource" "cluster" {
  triggers = {
    stands_for = "aws_ecs_cluster"
    name       = "${var.name_prefix}-cluster"
  }
}
