variable "name" {
  description = "Prefix for alarm, topic, dashboard and budget names, e.g. \"rms-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$", var.name))
    error_message = "name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "environment" {
  description = "Environment name. Must equal the Environment dimension the service puts on its metrics."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "database_type" {
  description = "Which database the alarms watch: \"aurora\" (Aurora Serverless v2 cluster) or \"rds\" (RDS instance)."
  type        = string

  validation {
    condition     = contains(["aurora", "rds"], var.database_type)
    error_message = "database_type must be \"aurora\" or \"rds\"."
  }
}

variable "db_identifier" {
  description = "Aurora cluster identifier (DBClusterIdentifier) or RDS instance identifier (DBInstanceIdentifier)."
  type        = string

  validation {
    condition     = length(var.db_identifier) > 0
    error_message = "db_identifier must not be empty."
  }
}

variable "aurora_max_capacity" {
  description = "The cluster's max_capacity in ACUs (Aurora only); the capacity alarm fires near it."
  type        = number
  default     = 2
}

variable "capacity_alarm_ratio" {
  description = "Fraction of max_capacity at which ServerlessDatabaseCapacity alarms."
  type        = number
  default     = 0.9

  validation {
    condition     = var.capacity_alarm_ratio > 0 && var.capacity_alarm_ratio <= 1
    error_message = "capacity_alarm_ratio must be in (0, 1]."
  }
}

variable "acu_utilization_threshold_percent" {
  description = "ACUUtilization (percent of max capacity in use) alarm threshold."
  type        = number
  default     = 90
}

variable "cpu_utilization_threshold_percent" {
  description = "CPUUtilization alarm threshold."
  type        = number
  default     = 80
}

variable "freeable_memory_threshold_bytes" {
  description = "FreeableMemory alarm threshold (alarms below it)."
  type        = number
  default     = 134217728 # 128 MiB
}

variable "database_connections_threshold" {
  description = "DatabaseConnections alarm threshold. A single-user service should hold a handful at most."
  type        = number
  default     = 50
}

variable "free_storage_threshold_bytes" {
  description = "FreeStorageSpace alarm threshold for RDS (alarms below it)."
  type        = number
  default     = 2147483648 # 2 GiB
}

variable "service_name" {
  description = "Value of the Service dimension on the service's metrics."
  type        = string
  default     = "rms"
}

variable "service_metric_namespace" {
  description = "CloudWatch namespace of the service's embedded-metric-format metrics."
  type        = string
  default     = "RMS/Database"
}

variable "cold_start_duration_threshold_ms" {
  description = "Alarm when a cold start (connect through a paused database) takes longer than this. The service gives up at DB_COLD_START_BUDGET_SECONDS (45 s)."
  type        = number
  default     = 35000
}

variable "cold_starts_per_hour_threshold" {
  description = "Alarm when the database is woken more often than this in an hour: a sign that seconds_until_auto_pause is too short for the usage pattern."
  type        = number
  default     = 6
}

variable "connect_retry_threshold" {
  description = "Alarm when connection retries in 5 minutes exceed this."
  type        = number
  default     = 30
}

variable "transaction_retry_threshold" {
  description = "Alarm when transaction retries (serialization failures, deadlocks, disconnects) in 5 minutes exceed this."
  type        = number
  default     = 10
}

variable "connect_failure_threshold" {
  description = "Alarm when requests answered 503 after the cold-start budget ran out reach this count in 5 minutes."
  type        = number
  default     = 1
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be positive."
  }
}

variable "budget_alert_threshold_percent" {
  description = "Actual spend, as a percentage of the budget, that triggers a notification (a forecast above 100% always notifies)."
  type        = number
  default     = 80
}

variable "budget_email_addresses" {
  description = "Email addresses notified by the budget (in addition to the SNS topic)."
  type        = list(string)
  default     = []
}

variable "budget_cost_filter_tag" {
  description = "Restrict the budget to resources carrying this cost-allocation tag (the tag must be activated in Billing), e.g. { key = \"Project\", value = \"rms\" }. null budgets the whole account."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the topic's KMS key is deleted."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "aurora_expect_pause" {
  description = "Aurora only: the cluster is meant to scale to zero (min_capacity = 0), so a day without a pause alarms (never_pauses). false for a cluster with a non-zero minimum."
  type        = bool
  default     = true
}

variable "create_kms_key" {
  description = "Create a customer-managed key for the alarm topic (1 $ a month plus its rotations). false (default): use kms_key_arn if given (for instance the database's customer-managed key, whose policy then admits cloudwatch, budgets and events), else leave the topic without a key (the AWS-managed aws/sns key cannot admit the publishers)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed key for the alarm topic when create_kms_key = false; null (default): no key, the AWS-managed-keys design."
  type        = string
  default     = null

  validation {
    condition     = !(var.create_kms_key && var.kms_key_arn != null)
    error_message = "kms_key_arn and create_kms_key = true are exclusive: pass a key or create one."
  }
}

variable "lambda_function_name" {
  description = "Name of the service's Lambda function; null: no AWS/Lambda alarms."
  type        = string
  default     = null
}

variable "lambda_timeout_seconds" {
  description = "The function's timeout; the duration alarm fires near it."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be 1 to 900 (the Lambda limit)."
  }
}

variable "lambda_duration_alarm_ratio" {
  description = "Fraction of the timeout above which a request's duration alarms."
  type        = number
  default     = 0.8

  validation {
    condition     = var.lambda_duration_alarm_ratio > 0 && var.lambda_duration_alarm_ratio < 1
    error_message = "lambda_duration_alarm_ratio must be in (0, 1)."
  }
}

variable "lambda_errors_threshold" {
  description = "Function errors in 5 minutes that alarm."
  type        = number
  default     = 1
}

variable "create_budget" {
  description = "Create the monthly cost budget. false only where AWS Budgets is not available (the local apply against moto, whose Budgets API Terraform cannot use)."
  type        = bool
  default     = true
}
