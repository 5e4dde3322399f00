# The calling modules (aurora-serverless-v2, rds-postgres) validate the same inputs with
# messages written for their users; the validations here keep this module's own guarantees
# (no database reachable from a CIDR, no world-open egress) true for any caller.

variable "name" {
  description = "Database identifier; prefix of every resource name (\"<name>-db\", \"alias/<name>-db\", \"<name>-rds-monitoring\")."
  type        = string

  validation {
    condition     = length(var.name) > 0
    error_message = "name must not be empty."
  }
}

variable "environment" {
  description = "Environment name (dev, prod, ...), set as the Environment tag."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database subnets and of the application security groups."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the DB subnet group (at least two Availability Zones)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two private subnets in different Availability Zones (an RDS DB subnet group requirement)."
  }
}

variable "app_security_group_ids" {
  description = "Security groups of the application: the only sources allowed to reach the database port."
  type        = list(string)

  validation {
    condition     = length(var.app_security_group_ids) > 0 && alltrue([for id in var.app_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "app_security_group_ids must list at least one security group id (sg-...); the database port is never opened to CIDR ranges."
  }
}

variable "egress_cidr_blocks" {
  description = "CIDR ranges the database may reach on HTTPS (443). Empty (default): no egress rule at all."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "egress_cidr_blocks must be valid CIDR ranges and must not be 0.0.0.0/0."
  }
}

variable "port" {
  description = "Database port opened to the application security groups."
  type        = number
  default     = 5432

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "port must be a whole number from 1 to 65535."
  }
}

variable "kms_key_description" {
  description = "Description of the customer-managed KMS key."
  type        = string
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the customer-managed KMS key is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be 7 to 30."
  }
}

variable "log_group_name_prefix" {
  description = "CloudWatch Logs group name prefix whose groups the service principal logs.<region>.amazonaws.com may encrypt with the key, e.g. \"/aws/rds/cluster/rms-dev/\". RDS, Secrets Manager and Performance Insights need no statement of their own: they use the key through grants, allowed by the key policy's delegation to IAM."
  type        = string

  validation {
    condition     = startswith(var.log_group_name_prefix, "/aws/rds/") && endswith(var.log_group_name_prefix, "/")
    error_message = "log_group_name_prefix must be an RDS log group prefix ending in \"/\", e.g. \"/aws/rds/instance/<name>/\"."
  }
}

variable "kms_logs_statement_sid" {
  description = "Sid of the key policy statement that admits CloudWatch Logs."
  type        = string
  default     = "AllowCloudWatchLogsForThisDatabaseLogGroups"

  validation {
    condition     = can(regex("^[A-Za-z0-9]+$", var.kms_logs_statement_sid))
    error_message = "kms_logs_statement_sid must be letters and digits only (IAM Sid rules)."
  }
}

variable "security_group_description" {
  description = "Description of the security group. AWS cannot change it in place: a new value replaces the group."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "kms_extra_log_group_prefixes" {
  description = "Further CloudWatch Logs group name prefixes (e.g. \"/aws/lambda/rms-dev-\") whose groups may be encrypted with the key, for a stack that shares one key to keep its idle cost down."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.kms_extra_log_group_prefixes : startswith(p, "/") && (endswith(p, "/") || endswith(p, "-"))])
    error_message = "kms_extra_log_group_prefixes entries must start with \"/\" and end with \"/\" or \"-\" (a prefix, never a bare \"*\")."
  }
}

variable "kms_publisher_service_principals" {
  description = "AWS service principals that may publish to SNS topics encrypted with the key (cloudwatch.amazonaws.com, budgets.amazonaws.com, events.amazonaws.com), limited to this account. Empty: none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.kms_publisher_service_principals : contains(["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"], p)])
    error_message = "kms_publisher_service_principals may only name cloudwatch.amazonaws.com, budgets.amazonaws.com and events.amazonaws.com."
  }
}

variable "customer_managed_key" {
  description = "Create a customer-managed KMS key (1 $ a month, plus 1 $ for each of its first two yearly rotations) for storage, the master user secret, Performance Insights and logs. false (default): the AWS-managed keys aws/rds and aws/secretsmanager, no monthly charge."
  type        = bool
  default     = false
}
