variable "aws_region" {
  description = "AWS Region."
  type        = string
  default     = "us-east-1"
}

variable "vpc_cidr_block" {
  description = "IPv4 range of the environment's VPC (private only)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "dual_stack" {
  description = "Dual-stack subnets and IPv6 egress for the function (how it reaches the sign-in issuer without NAT). false only for the local apply against moto, which cannot associate a subnet's IPv6 range; sign-in cannot work without it."
  type        = bool
  default     = true
}

variable "extra_app_security_group_ids" {
  description = "Further security groups the database admits besides the service function's (e.g. an operator's bastion)."
  type        = list(string)
  default     = []
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

variable "master_password_rotation_days" {
  description = "Days between rotations of the master password (null: as RDS set it)."
  type        = number
  default     = 30
  nullable    = true
}

variable "service_package_path" {
  description = "Deployment zip of the service (null: dist/rms-lambda.zip at the repository root, as make package writes it)."
  type        = string
  default     = null
}

variable "service_package_sha256" {
  description = "Base64 SHA-256 of the zip (null: computed from the file)."
  type        = string
  default     = null
}

variable "service_handler" {
  description = "Python handler of the function."
  type        = string
  default     = "rms.lambda_handler.handler"
}

variable "service_architecture" {
  description = "Architecture of the function; must match make package's LAMBDA_ARCH (default arm64 in both). x86_64 stays possible, and is the only choice on python3.11 (docs/lambda.md)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.service_architecture)
    error_message = "service_architecture must be arm64 or x86_64."
  }

  validation {
    condition     = !(var.service_architecture == "arm64" && var.service_runtime == "python3.11")
    error_message = "arm64 needs python3.12 or python3.13 (service_runtime): python3.11's Amazon Linux 2 cannot load the locked psycopg-binary's aarch64 wheels."
  }
}

variable "service_snapstart" {
  description = "Lambda SnapStart for the function (off by default; python3.12 or later): restores a snapshot taken after INIT instead of importing and building the app at each cold start, for a cache and restore charge (docs/lambda.md, docs/cost-model.md)."
  type        = bool
  default     = false

  validation {
    condition     = !(var.service_snapstart && var.service_runtime == "python3.11")
    error_message = "service_snapstart needs python3.12 or python3.13 (service_runtime): Lambda SnapStart for Python does not support python3.11."
  }
}

variable "service_runtime" {
  description = "Lambda runtime; must match make package's LAMBDA_PYTHON (default python3.13 in both; python3.12 and python3.11 stay possible)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.service_runtime)
    error_message = "service_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "service_reserved_concurrency" {
  description = "Reserved concurrency of the function (-1: none, for an account whose Lambda concurrency quota is still 10)."
  type        = number
  default     = 5
}

variable "app_db_user" {
  description = "Database role the service logs in as with an IAM token (created by the bootstrap command)."
  type        = string
  default     = "rms_app"
}

variable "db_sslrootcert" {
  description = "Path of the RDS CA bundle inside the function (make package ships it)."
  type        = string
  default     = "/var/task/rds-global-bundle.pem"
}

variable "idle_release_seconds" {
  description = "DB_IDLE_RELEASE_SECONDS: the service closes pooled connections idle this long."
  type        = number
  default     = 60
}

variable "cold_start_budget_seconds" {
  description = "DB_COLD_START_BUDGET_SECONDS: how long a request waits for the database to resume before the service answers 503 with Retry-After. The HTTP API gives up at 30 s, and the function's own cold start comes first."
  type        = number
  default     = 20

  validation {
    condition     = var.cold_start_budget_seconds >= 10 && var.cold_start_budget_seconds <= 25
    error_message = "cold_start_budget_seconds must be 10 to 25: the HTTP API stops waiting at 30 s, and the function's cold start (a few seconds) comes before the database wait; the service must answer its 503 with Retry-After first."
  }
}

variable "owner_email" {
  description = "The owner's email: invited to the user pool with a temporary password (null: create the user by hand)."
  type        = string
  default     = null
}

variable "alarm_email_addresses" {
  description = "Who receives alarms (each address must confirm the SNS subscription)."
  type        = list(string)
  default     = []
}

variable "create_budget" {
  description = "Create the monthly AWS Budgets budget (false only where Budgets is not available, e.g. the local apply against moto)."
  type        = bool
  default     = true
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget for the account (or for the tag filter below)."
  type        = number
  default     = 10
}

variable "budget_cost_filter_tag" {
  description = "Optional cost-allocation tag filter for the budget, e.g. { key = \"Project\", value = \"rms\" } once the tag is activated in Billing."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "customer_managed_key" {
  description = "One customer-managed KMS key for the whole stack (the database's storage, master user secret, Performance Insights and logs, the function's and the API's logs, the alarm topic): 1 $ a month plus 1 $ for each of its first two yearly rotations. false (default): the AWS-managed keys (aws/rds, aws/secretsmanager, aws/lambda), CloudWatch Logs' own encryption and an alarm topic without a key, at no monthly charge (docs/cost-model.md; rms cost estimate --stack, --customer-managed-key)."
  type        = bool
  default     = false
}
