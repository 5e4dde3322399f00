variable "aws_region" {
  description = "AWS Region."
  type        = string
  default     = "us-east-1"
}

variable "database_engine" {
  description = "\"rds\": RDS PostgreSQL (Multi-AZ by default), the first production plan. \"aurora\": Aurora Serverless v2 that scales to zero, the cheaper plan for a single user."
  type        = string
  default     = "rds"

  validation {
    condition     = contains(["rds", "aurora"], var.database_engine)
    error_message = "database_engine must be \"rds\" or \"aurora\"."
  }
}

variable "vpc_id" {
  description = "Existing VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets in at least two Availability Zones."
  type        = list(string)
}

variable "app_security_group_ids" {
  description = "Security groups of the service. Only they may reach PostgreSQL."
  type        = list(string)
}

# RDS settings

variable "rds_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "rds_multi_az" {
  description = "RDS Multi-AZ standby."
  type        = bool
  default     = true
}

variable "rds_allocated_storage" {
  description = "RDS initial gp3 storage (GiB)."
  type        = number
  default     = 20
}

variable "rds_max_allocated_storage" {
  description = "RDS storage autoscaling ceiling (GiB)."
  type        = number
  default     = 100
}

# Aurora settings

variable "aurora_min_capacity" {
  description = "Aurora minimum ACUs (0 = scale to zero)."
  type        = number
  default     = 0
}

variable "aurora_max_capacity" {
  description = "Aurora maximum ACUs."
  type        = number
  default     = 2
}

variable "aurora_seconds_until_auto_pause" {
  description = "Aurora idle seconds before pausing; null when aurora_min_capacity > 0."
  type        = number
  default     = 300
  nullable    = true
}

variable "aurora_reader_count" {
  description = "Aurora readers (failover targets in another AZ). Tier-1 readers pause with the writer but scale with it while active, roughly doubling the ACU bill."
  type        = number
  default     = 0
}

# Notifications and cost

variable "alarm_email_addresses" {
  description = "Who receives alarms (each address must confirm the SNS subscription)."
  type        = list(string)
  default     = []
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget."
  type        = number
  default     = 50
}

variable "budget_cost_filter_tag" {
  description = "Optional cost-allocation tag filter for the budget."
  type = object({
    key   = string
    value = string
  })
  default = null
}
