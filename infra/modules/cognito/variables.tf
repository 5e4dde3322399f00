variable "name" {
  description = "Name of the user pool and prefix of the client name, e.g. \"rms-dev\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, set as the Environment tag."
  type        = string
}

variable "is_production" {
  description = "Deletion protection on the user pool (it holds the owner's MFA enrolment). Defaults to true (safe)."
  type        = bool
  default     = true
}

variable "service_url" {
  description = "Public base URL of the service (https://...). The callback is <service_url><callback_path>, the sign-out URL <service_url><sign_out_path>."
  type        = string

  validation {
    condition     = startswith(var.service_url, "https://") && !strcontains(var.service_url, "?") && !strcontains(var.service_url, "#")
    error_message = "service_url must be an https:// URL without a query or fragment (Cognito accepts only HTTPS callbacks outside localhost)."
  }
}

variable "callback_path" {
  description = "Path of the service's OIDC callback."
  type        = string
  default     = "/auth/callback"

  validation {
    condition     = startswith(var.callback_path, "/")
    error_message = "callback_path must start with \"/\"."
  }
}

variable "sign_out_path" {
  description = "Path Cognito sends the browser to after signing out."
  type        = string
  default     = "/"

  validation {
    condition     = startswith(var.sign_out_path, "/")
    error_message = "sign_out_path must start with \"/\"."
  }
}

variable "domain_prefix" {
  description = "Hosted-UI domain prefix (<prefix>.auth.<region>.amazoncognito.com). null: <name>-<8 hex of the account id's hash>."
  type        = string
  default     = null

  validation {
    condition     = var.domain_prefix == null ? true : can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !strcontains(var.domain_prefix, "aws") && !strcontains(var.domain_prefix, "amazon") && !strcontains(var.domain_prefix, "cognito")
    error_message = "domain_prefix must be lowercase letters, digits and hyphens, and must not contain aws, amazon or cognito (Cognito reserves them)."
  }
}

variable "password_minimum_length" {
  description = "Minimum password length."
  type        = number
  default     = 14

  validation {
    condition     = var.password_minimum_length >= 12 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be 12 to 99."
  }
}

variable "id_token_validity_minutes" {
  description = "Lifetime of ID and access tokens, in minutes (the service's own session cookie carries the sign-in after that)."
  type        = number
  default     = 60

  validation {
    condition     = var.id_token_validity_minutes >= 5 && var.id_token_validity_minutes <= 1440
    error_message = "id_token_validity_minutes must be 5 to 1440 (Cognito's limits)."
  }
}

variable "refresh_token_validity_hours" {
  description = "Lifetime of refresh tokens, in hours."
  type        = number
  default     = 24

  validation {
    condition     = var.refresh_token_validity_hours >= 1 && var.refresh_token_validity_hours <= 87600
    error_message = "refresh_token_validity_hours must be 1 to 87600 (10 years, Cognito's limit)."
  }
}

variable "owner_email" {
  description = "Email of the owner, invited with a temporary password. null: create the user by hand."
  type        = string
  default     = null

  validation {
    condition     = var.owner_email == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.owner_email))
    error_message = "owner_email must be an email address."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}
