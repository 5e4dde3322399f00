variable "name" {
  description = "Prefix of every resource name, e.g. \"rms-dev\"."
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

variable "cidr_block" {
  description = "IPv4 range of the VPC (private only; nothing routes it to the internet). Each subnet takes a /24 of it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be a valid IPv4 CIDR of /20 or larger."
  }
}

variable "subnet_count" {
  description = "Private subnets, one per Availability Zone (an RDS subnet group needs at least two)."
  type        = number
  default     = 2

  validation {
    condition     = var.subnet_count >= 2 && var.subnet_count <= 3
    error_message = "subnet_count must be 2 or 3: the database needs two Availability Zones."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "subnet_ipv6" {
  description = "Give the subnets IPv6 ranges (dual-stack), the function's only way to the sign-in issuer. false only for the local apply against moto, which never reports a subnet's IPv6 range as associated (the apply would wait for ever)."
  type        = bool
  default     = true
}
