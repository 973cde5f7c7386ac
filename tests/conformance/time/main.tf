# hashicorp/time served offline (saasctl/offline_aws/utility.py): times made at
# apply and kept in state, calendar offsets as Go adds them, an offset changed in
# place, a rotation that makes its resource anew once due, a real sleep.
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}

variable "offset_hours" {
  description = "Changed by update.tfvars: time_offset updates in place."
  type        = number
  default     = 2
}

variable "rotating_base" {
  description = "The rotation's start (null: now); the test sets one long past."
  type        = string
  default     = null
}

resource "time_static" "made" {}

resource "time_offset" "later" {
  base_rfc3339  = "2026-01-31T10:00:00Z"
  offset_months = 1
  offset_hours  = var.offset_hours
}

resource "time_rotating" "key" {
  rfc3339       = var.rotating_base
  rotation_days = 30
}

resource "time_sleep" "wait" {
  create_duration = "1s"
}

output "ids" {
  description = "What the test compares across applies."
  value = {
    static   = time_static.made.id
    offset   = time_offset.later.id
    rotating = time_rotating.key.id
  }
}

output "checks" {
  value = {
    "time:static parts"    = time_static.made.year == tonumber(substr(time_static.made.rfc3339, 0, 4)) && time_static.made.unix > 1700000000
    "time:offset calendar" = time_offset.later.rfc3339 == "2026-03-03T${format("%02d", 10 + var.offset_hours)}:00:00Z"
    "time:offset parts"    = time_offset.later.month == 3 && time_offset.later.day == 3
    "time:rotating due"    = time_rotating.key.rotation_rfc3339 == timeadd(time_rotating.key.rfc3339, "720h")
    "time:sleep"           = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T", time_sleep.wait.id))
  }
}
