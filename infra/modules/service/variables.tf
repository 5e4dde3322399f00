variable "name" {
  description = "Prefix of every resource name, e.g. \"rms-dev\" (the function is <name>-service)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,40}[a-z0-9]$", var.name))
    error_message = "name must be 2-42 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, set as the Environment tag."
  type        = string
}

variable "package_path" {
  description = "Path of the deployment zip (make package: the service and its locked dependencies as manylinux wheels for the architecture)."
  type        = string
}

variable "package_sha256" {
  description = "Base64-encoded SHA-256 of the zip (filebase64sha256(package_path), or the figure make package prints); a new value deploys the new code."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.package_sha256))
    error_message = "package_sha256 must be a base64-encoded SHA-256 (44 characters ending in \"=\"), e.g. filebase64sha256(\"dist/rms-lambda.zip\")."
  }
}

variable "handler" {
  description = "Python handler of the ASGI adapter, module.function."
  type        = string
  default     = "rms.lambda_handler.handler"
}

variable "runtime" {
  description = "Lambda runtime; the zip's wheels must be built for it (make package LAMBDA_PYTHON). python3.13 (default) and python3.12 run on Amazon Linux 2023 (glibc 2.34); python3.11 on Amazon Linux 2 (glibc 2.26, x86_64 only: see architecture)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11, python3.12 or python3.13 (make package builds the wheels for one of them)."
  }
}

variable "architecture" {
  description = "arm64 (Graviton, 20% cheaper per GB-second; default) or x86_64. The zip's wheels must be built for it (make package LAMBDA_ARCH). arm64 needs python3.12 or later: the locked psycopg-binary's aarch64 wheels need glibc 2.27+, which python3.11's Amazon Linux 2 (glibc 2.26) lacks."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }

  validation {
    condition     = !(var.architecture == "arm64" && var.runtime == "python3.11")
    error_message = "arm64 needs python3.12 or python3.13: on python3.11 (Amazon Linux 2, glibc 2.26) the locked psycopg-binary's aarch64 wheels do not load. Use x86_64 with python3.11."
  }
}

variable "snapstart" {
  description = "Lambda SnapStart (off by default): publish a version on each deploy, with a snapshot of the environment taken after INIT, and serve the API through the live alias of the latest version; cold starts then restore the snapshot instead of importing and building the app. Needs python3.12 or later. Billed per GB-second the snapshot is cached and per GB restored (docs/cost-model.md); what it changes for the code: docs/lambda.md."
  type        = bool
  default     = false

  validation {
    condition     = !(var.snapstart && var.runtime == "python3.11")
    error_message = "snapstart needs python3.12 or python3.13: Lambda SnapStart for Python does not support python3.11."
  }
}

variable "memory_mb" {
  description = "Function memory (CPU scales with it). 512 MB imports FastAPI, SQLAlchemy and psycopg in a cold start of a few seconds."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be 128 to 10240."
  }
}

variable "timeout_seconds" {
  description = "Function timeout. The HTTP API gives up after 30 s, so a longer timeout would only run on after the client has its 503."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 5 && var.timeout_seconds <= 30
    error_message = "timeout_seconds must be 5 to 30: the HTTP API integration stops waiting at 30 s."
  }
}

variable "reserved_concurrency" {
  description = "Most copies of the function that may run at once (a flood's ceiling). -1: no reservation (for an account whose concurrency quota is still 10, where Lambda refuses any reservation; the HTTP API throttle still applies)."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrency == -1 || (var.reserved_concurrency >= 1 && var.reserved_concurrency <= 50)
    error_message = "reserved_concurrency must be -1 or 1 to 50 (one owner needs a handful)."
  }
}

variable "throttle_rate_per_second" {
  description = "HTTP API steady request rate limit (requests per second) for the whole API."
  type        = number
  default     = 10

  validation {
    condition     = var.throttle_rate_per_second >= 1 && var.throttle_rate_per_second <= 1000
    error_message = "throttle_rate_per_second must be 1 to 1000."
  }
}

variable "throttle_burst" {
  description = "HTTP API burst limit (requests)."
  type        = number
  default     = 20

  validation {
    condition     = var.throttle_burst >= 1 && var.throttle_burst <= 5000
    error_message = "throttle_burst must be 1 to 5000."
  }
}

variable "subnet_ids" {
  description = "Private dual-stack subnets for the function (the network module's)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must list at least one subnet."
  }
}

variable "app_security_group_id" {
  description = "Security group of the function (the database admits it); this module adds its egress rules."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.app_security_group_id))
    error_message = "app_security_group_id must be a security group id (sg-...)."
  }
}

variable "db_security_group_id" {
  description = "Security group of the database: the only destination of the database-port egress rule."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.db_security_group_id))
    error_message = "db_security_group_id must be a security group id (sg-...)."
  }
}

variable "db_port" {
  description = "Database port."
  type        = number
  default     = 5432
}

variable "db_resource_id" {
  description = "Resource id of the database (Aurora cluster_resource_id, cluster-...; RDS resource_id, db-...) for the rds-db:connect permission."
  type        = string
}

variable "db_user" {
  description = "Database user the service logs in as with an IAM token (the application role the bootstrap creates, never the master user)."
  type        = string
  default     = "rms_app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_user)) && !contains(["rms_admin", "postgres", "rdsadmin"], var.db_user)
    error_message = "db_user must be a lowercase PostgreSQL role name and not the master user: the service never connects as the master user."
  }
}

variable "environment_variables" {
  description = "The service's configuration (non-secret)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.environment_variables) :
      can(regex("^[A-Z][A-Z0-9_]*$", k)) && !strcontains(k, "PASSWORD") && !startswith(k, "AWS_") && k != "DATABASE_URL"
    ])
    error_message = "environment_variables names must be UPPER_SNAKE_CASE, must not hold a password (PASSWORD, DATABASE_URL) and must not start with AWS_ (Lambda reserves those)."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's and the API's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed key for the log groups (the database key, shared to save 1 $ a month). null (default): CloudWatch Logs' own encryption, the AWS-managed-keys design at no monthly charge."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "ipv6_egress" {
  description = "Let the function use the subnets' IPv6 addresses (ipv6_allowed_for_dual_stack): its only way to the sign-in issuer. Needs dual-stack subnets."
  type        = bool
  default     = true
}
