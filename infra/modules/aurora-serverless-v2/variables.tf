variable "name" {
  description = "Cluster identifier and prefix for every resource name, e.g. \"rms-dev\"."
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
  description = "Private subnets for the DB subnet group. AWS requires subnets in at least two Availability Zones, even when the cluster runs a single instance."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two private subnets in different Availability Zones (an RDS DB subnet group requirement, even for a single-instance dev cluster)."
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

variable "engine_version" {
  description = "Aurora PostgreSQL engine version: a major version (\"16\", the default) or a major.minor. With a major alone AWS picks its default minor and automatic minor upgrades cause no plan drift (the provider compares the major with engine_version_actual); a pinned minor fails the next plan once AWS has upgraded the cluster. Major 13 is refused: it has no idle_session_timeout, which keeps a forgotten session from holding a scale-to-zero cluster awake."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^(1[4-7])(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be an Aurora PostgreSQL major version from 14 to 17, optionally with a minor (\"16\" or \"16.6\"). 13 is refused: idle_session_timeout exists only from PostgreSQL 14."
  }

  validation {
    # First minor of each major that supports min_capacity = 0 (AWS documentation). A major
    # alone means AWS's current default minor, which is past these for 14 to 17.
    condition     = var.min_capacity > 0 || !can(regex("^[0-9]+\\.[0-9]+$", var.engine_version)) || try(tonumber(split(".", var.engine_version)[1]) >= lookup({ "14" = 12, "15" = 7, "16" = 3, "17" = 0 }, split(".", var.engine_version)[0], 0), false)
    error_message = "engine_version ${var.engine_version} cannot scale to zero: min_capacity = 0 needs Aurora PostgreSQL 16.3+, 15.7+ or 14.12+ (or a major version alone)."
  }
}

variable "min_capacity" {
  description = "Minimum ACUs per instance. 0 lets the instance pause when idle (scale to zero); 0.5 or more never pauses."
  type        = number
  default     = 0

  validation {
    condition     = var.min_capacity >= 0 && var.min_capacity <= 256 && floor(var.min_capacity * 2) == var.min_capacity * 2
    error_message = "min_capacity must be between 0 and 256 in steps of 0.5."
  }

  validation {
    condition     = !(var.min_capacity > 0 && var.seconds_until_auto_pause != null)
    error_message = "seconds_until_auto_pause is set (${coalesce(var.seconds_until_auto_pause, 0)}) but min_capacity is ${var.min_capacity}: an Aurora Serverless v2 instance only pauses when min_capacity = 0, and any minimum of 0.5 ACU or more never pauses. Either set min_capacity = 0 to scale to zero, or set seconds_until_auto_pause = null to run without auto-pause."
  }
}

variable "max_capacity" {
  description = "Maximum ACUs per instance (1 ACU is about 2 GiB of memory)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 256 && floor(var.max_capacity * 2) == var.max_capacity * 2
    error_message = "max_capacity must be between 1 and 256 in steps of 0.5."
  }

  validation {
    condition     = var.max_capacity >= var.min_capacity
    error_message = "max_capacity (${var.max_capacity}) must be greater than or equal to min_capacity (${var.min_capacity})."
  }
}

variable "seconds_until_auto_pause" {
  description = "Idle seconds before an instance pauses (300..86400). Only meaningful with min_capacity = 0; set to null when min_capacity > 0 (no auto-pause)."
  type        = number
  default     = 300
  nullable    = true

  validation {
    condition     = var.seconds_until_auto_pause == null ? true : (var.seconds_until_auto_pause >= 300 && var.seconds_until_auto_pause <= 86400 && floor(var.seconds_until_auto_pause) == var.seconds_until_auto_pause)
    error_message = "seconds_until_auto_pause must be a whole number of seconds between 300 (5 minutes) and 86400 (1 day), or null for no auto-pause."
  }
}

variable "reader_count" {
  description = "Number of db.serverless reader instances in addition to the writer. 0 is a single-AZ cluster (fine for dev); 1+ gives a failover target in another AZ."
  type        = number
  default     = 0

  validation {
    condition     = var.reader_count >= 0 && var.reader_count <= 15 && floor(var.reader_count) == var.reader_count
    error_message = "reader_count must be a whole number from 0 to 15."
  }
}

variable "reader_promotion_tier" {
  description = "Failover priority of the readers. Tiers 0-1 pause and resume together with the writer; 2-15 pause independently."
  type        = number
  default     = 1

  validation {
    condition     = var.reader_promotion_tier >= 0 && var.reader_promotion_tier <= 15
    error_message = "reader_promotion_tier must be from 0 to 15."
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
  description = "Server-side idle_session_timeout. A forgotten idle session keeps a scale-to-zero instance awake forever; this closes it. 0 disables."
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

variable "enable_http_endpoint" {
  description = "Enable the RDS Data API (HTTP endpoint). While paused it answers DatabaseResumingException."
  type        = bool
  default     = false
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

variable "master_password_rotation_days" {
  description = "Rotate the RDS-managed master password every this many days (Secrets Manager managed rotation, no Lambda). null leaves the secret's rotation as RDS set it (RDS turns on a 7-day rotation when it creates the secret)."
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
