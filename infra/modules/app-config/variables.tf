variable "environment" {
  description = "Environment name; parameters live under /rms/<environment>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "parameter_prefix" {
  description = "Root of the parameter path (no trailing slash)."
  type        = string
  default     = "/rms"

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.parameter_prefix))
    error_message = "parameter_prefix must look like /rms (leading slash, no trailing slash)."
  }
}

variable "db_host" {
  description = "Database host name (Aurora writer endpoint or RDS address)."
  type        = string
}

variable "db_port" {
  description = "Database port."
  type        = number
  default     = 5432
}

variable "db_name" {
  description = "Database name."
  type        = string
}

variable "db_user" {
  description = "Database user the service connects as."
  type        = string
}

variable "db_secret_arn" {
  description = "ARN of the Secrets Manager secret with the password. Only the ARN is stored here; the secret stays in Secrets Manager."
  type        = string
}

variable "db_sslmode" {
  description = "libpq sslmode. verify-full checks the server certificate and host name against the RDS CA bundle."
  type        = string
  default     = "verify-full"

  validation {
    condition     = contains(["require", "verify-ca", "verify-full"], var.db_sslmode)
    error_message = "db_sslmode must be require, verify-ca or verify-full: the database refuses unencrypted connections (rds.force_ssl = 1)."
  }
}

variable "idle_release_seconds" {
  description = "Seconds after which the service's pool closes idle connections. Must be well below seconds_until_auto_pause, or the pool keeps the database awake."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_release_seconds >= 1 && var.idle_release_seconds <= 3600
    error_message = "idle_release_seconds must be between 1 and 3600."
  }

  validation {
    condition     = var.seconds_until_auto_pause == null ? true : var.idle_release_seconds * 2 <= var.seconds_until_auto_pause
    error_message = "DB_IDLE_RELEASE_SECONDS (${var.idle_release_seconds}) must be at most half of the database's seconds_until_auto_pause (${coalesce(var.seconds_until_auto_pause, 0)}): an idle pooled connection keeps Aurora awake, so the pool must drain well before the pause delay."
  }
}

variable "cold_start_budget_seconds" {
  description = "How long a request may wait for a paused database to resume before the service answers 503 with Retry-After. A resume takes about 15 s, 30 s or more after a long pause; behind the HTTP API (30 s limit) the environments use 20 s and the client retries after the 503."
  type        = number
  default     = 45

  validation {
    condition     = var.cold_start_budget_seconds >= 10 && var.cold_start_budget_seconds <= 300
    error_message = "cold_start_budget_seconds must be 10 to 300: below 10 s even a quick resume (about 15 s) would fail every first request twice."
  }
}

variable "seconds_until_auto_pause" {
  description = "The database's auto-pause delay, if it scales to zero (null otherwise). Used only to check that the pool drains first."
  type        = number
  default     = null
  nullable    = true
}

variable "extra_parameters" {
  description = "Additional non-secret settings, name => value, stored next to the others."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_parameters) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !strcontains(lower(k), "password") && !strcontains(lower(k), "secret_value")])
    error_message = "extra_parameters names must be UPPER_SNAKE_CASE and must not be secrets (passwords belong in Secrets Manager)."
  }
}

variable "tags" {
  description = "Tags added to every parameter."
  type        = map(string)
  default     = {}
}
