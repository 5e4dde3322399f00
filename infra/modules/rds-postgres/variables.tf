variable "name" {
  description = "Instance identifier and prefix for every resource name, e.g. \"rms-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 2-40 characters of lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen (RDS identifier rules)."
  }
}

variable "environment" {
  description = "Environment name (dev, prod, ...). Used in tags, log names and the final snapshot name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "is_production" {
  description = "Production safety switch: deletion protection on and a final snapshot on destroy. Defaults to true (safe); disposable environments such as dev set it to false."
  type        = bool
  default     = true
}

variable "vpc_id" {
  description = "VPC that holds the database subnets and the application security groups."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the DB subnet group. AWS requires subnets in at least two Availability Zones, even for a Single-AZ instance."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two private subnets in different Availability Zones (an RDS DB subnet group requirement, even for a Single-AZ instance)."
  }
}

variable "app_security_group_ids" {
  description = "Security groups of the application. Only these may reach the database port."
  type        = list(string)

  validation {
    condition     = length(var.app_security_group_ids) > 0 && alltrue([for id in var.app_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "app_security_group_ids must list at least one security group id (sg-...): without one nothing could reach the database, and the module never opens the port to CIDR ranges."
  }
}

variable "egress_cidr_blocks" {
  description = "CIDR ranges the database may reach on HTTPS (443), e.g. the VPC CIDR for interface endpoints used by aws_s3/aws_lambda extensions. Empty (default) means no egress at all: the database never initiates connections and security groups are stateful, so replies to clients need no egress rule."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "egress_cidr_blocks must be valid CIDR ranges and must not be 0.0.0.0/0."
  }
}

variable "database_name" {
  description = "Name of the database created in the cluster."
  type        = string
  default     = "rms"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and use lowercase letters, digits and underscores (max 63)."
  }
}

variable "master_username" {
  description = "Master user name. Its password is generated and kept by Secrets Manager (manage_master_user_password), never in Terraform state."
  type        = string
  default     = "rms_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && !contains(["postgres", "rdsadmin", "admin"], var.master_username)
    error_message = "master_username must start with a letter, use lowercase letters, digits and underscores, and not be a reserved name."
  }
}

variable "port" {
  description = "Database port."
  type        = number
  default     = 5432
}

variable "backup_retention_period" {
  description = "Days of automated backups and point-in-time recovery (7 is this project's minimum)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 7 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be 7 to 35 days."
  }
}

variable "preferred_backup_window" {
  description = "Daily backup window (UTC, hh24:mi-hh24:mi). Must not overlap the maintenance window."
  type        = string
  default     = "03:00-04:00"
}

variable "preferred_maintenance_window" {
  description = "Weekly maintenance window (UTC, ddd:hh24:mi-ddd:hh24:mi)."
  type        = string
  default     = "sun:04:30-sun:05:30"
}

variable "log_retention_days" {
  description = "Retention of the exported postgresql log in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_min_duration_statement_ms" {
  description = "Log statements slower than this many milliseconds (-1 disables)."
  type        = number
  default     = 1000
}

variable "idle_session_timeout_ms" {
  description = "Server-side idle_session_timeout. Closes sessions left idle (they hold memory and connection slots). 0 disables."
  type        = number
  default     = 900000
}

variable "idle_in_transaction_session_timeout_ms" {
  description = "Server-side idle_in_transaction_session_timeout (0 disables)."
  type        = number
  default     = 300000
}

variable "performance_insights_retention_period" {
  description = "Performance Insights retention in days (7 is the free tier; otherwise 31 * months, up to 731)."
  type        = number
  default     = 7

  validation {
    condition     = var.performance_insights_retention_period == 7 || var.performance_insights_retention_period == 731 || (var.performance_insights_retention_period % 31 == 0 && var.performance_insights_retention_period <= 713 && var.performance_insights_retention_period > 0)
    error_message = "performance_insights_retention_period must be 7, a multiple of 31 up to 713, or 731."
  }
}

variable "monitoring_interval" {
  description = "Enhanced Monitoring interval in seconds."
  type        = number
  default     = 60

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be 1, 5, 10, 15, 30 or 60 (Enhanced Monitoring is always on in this module)."
  }
}

variable "ca_cert_identifier" {
  description = "Certificate authority for the server certificate (clients verify it with sslmode=verify-full)."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

variable "apply_immediately" {
  description = "Apply changes now instead of in the next maintenance window."
  type        = bool
  default     = false
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

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "engine_version" {
  description = "RDS PostgreSQL version. A major version alone (\"16\") lets automatic minor upgrades proceed without plan drift. 13 is refused: the parameter group sets idle_session_timeout, which exists only from PostgreSQL 14."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^(1[4-7])(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major version from 14 to 17, optionally with a minor version, e.g. \"16\" or \"16.6\". 13 is refused: idle_session_timeout exists only from PostgreSQL 14."
  }
}

variable "instance_class" {
  description = "DB instance class."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.instance_class, "db.") && var.instance_class != "db.serverless"
    error_message = "instance_class must be an RDS instance class such as db.t4g.micro (db.serverless is Aurora only)."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in another Availability Zone (automatic failover). Doubles the instance price."
  type        = bool
  default     = true
}

variable "allocated_storage" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be 20 to 65536 GiB for gp3."
  }
}

variable "max_allocated_storage" {
  description = "Upper limit for storage autoscaling in GiB (must exceed allocated_storage)."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage > var.allocated_storage
    error_message = "max_allocated_storage (${var.max_allocated_storage}) must be greater than allocated_storage (${var.allocated_storage}) for storage autoscaling."
  }
}

variable "master_password_rotation_days" {
  description = "Rotate the RDS-managed master password every this many days (Secrets Manager managed rotation). null leaves the rotation as RDS set it (7 days)."
  type        = number
  default     = 30
  nullable    = true

  validation {
    condition     = var.master_password_rotation_days == null ? true : (var.master_password_rotation_days >= 1 && var.master_password_rotation_days <= 90 && floor(var.master_password_rotation_days) == var.master_password_rotation_days)
    error_message = "master_password_rotation_days must be a whole number of days from 1 to 90 (at most a quarter between rotations), or null."
  }
}

variable "kms_extra_log_group_prefixes" {
  description = "Further log group name prefixes that may use the database KMS key (a stack sharing one key: the function's and the API's log groups). Passed to db-foundation."
  type        = list(string)
  default     = []
}

variable "kms_publisher_service_principals" {
  description = "Services that may publish to SNS topics encrypted with the database KMS key (when the alarm topic shares it). Passed to db-foundation."
  type        = list(string)
  default     = []
}

variable "customer_managed_key" {
  description = "Encrypt storage, the master user secret, Performance Insights and the log groups with a customer-managed KMS key of this module (1 $ a month, plus 1 $ for each of its first two yearly rotations: 3 $ a month from the third year). false (default): the AWS-managed keys aws/rds and aws/secretsmanager, and CloudWatch Logs' own encryption, at no monthly charge; the kms_key_arn output is then null."
  type        = bool
  default     = false
}
