# STAND-IN for terraform/modules/tenant-advanced (testing only): null resources with
# the same interface; creates nothing in AWS. Services: services.tf.

locals {
  cluster_arn = var.shared.advanced_cluster_arn
}
