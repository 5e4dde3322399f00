variable "aws_region" {
  description = "AWS Region."
  type        = string
  default     = "us-east-1"
}

variable "vpc_id" {
  description = "Existing VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets for the database (at least two Availability Zones; an RDS subnet group rule, even for one instance)."
  type        = list(string)
}

variable "app_security_group_ids" {
  description = "Security groups of the service (ECS task, Lambda, EC2...). Only they may reach PostgreSQL."
  type        = list(string)
}

variable "max_capacity" {
  description = "Maximum ACUs for the dev cluster."
  type        = number
  default     = 2
}

variable "seconds_until_auto_pause" {
  description = "Idle seconds before dev pauses."
  type        = number
  default     = 300
}

variable "alarm_email_addresses" {
  description = "Who receives alarms (each address must confirm the SNS subscription)."
  type        = list(string)
  default     = []
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget for the account (or for the tag filter below)."
  type        = number
  default     = 20
}

variable "budget_cost_filter_tag" {
  description = "Optional cost-allocation tag filter for the budget, e.g. { key = \"Project\", value = \"rms\" } once the tag is activated in Billing."
  type = object({
    key   = string
    value = string
  })
  default = null
}
