# Sign-in for the one owner of an RMS deployment: a Cognito user pool that nobody can sign up
# to, with TOTP MFA required and a strong password policy, a hosted-UI (classic managed login)
# domain, and one app client for the browser (authorization code grant with PKCE, no client
# secret). The service verifies the tokens itself (issue 11); the issuer and client id are
# outputs, written into the service's configuration by the environment.
#
# The callback and sign-out URLs come from the service's URL, which the environment takes
# from the HTTP API (created before the function), so the function's configuration can hold
# the client id without a dependency cycle.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region = data.aws_region.current.name
  # Hosted-UI prefixes are global within a region: a short hash of the account keeps two
  # accounts' "rms-dev" apart without putting the account id in a public URL.
  domain_prefix = coalesce(var.domain_prefix, "${var.name}-${substr(sha256(data.aws_caller_identity.current.account_id), 0, 8)}")

  service_url = trimsuffix(var.service_url, "/")

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "cognito"
  })
}

resource "aws_cognito_user_pool" "this" {
  name = var.name

  # LITE has everything used here (TOTP MFA, the classic hosted UI) and the same 10,000
  # monthly active users free as ESSENTIALS; PLUS (threat protection) is billed per user.
  user_pool_tier      = "LITE"
  deletion_protection = var.is_production ? "ACTIVE" : "INACTIVE"

  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  # Only an administrator creates users: the owner is invited (owner_email), nobody signs up.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  mfa_configuration = "ON"
  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = local.tags
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = local.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
  # 1 = the classic hosted UI, available on the LITE tier (managed login, 2, needs ESSENTIALS).
  managed_login_version = 1
}

resource "aws_cognito_user_pool_client" "browser" {
  name         = "${var.name}-browser"
  user_pool_id = aws_cognito_user_pool.this.id

  # A browser cannot keep a secret: a public client, protected by PKCE.
  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["${local.service_url}${var.callback_path}"]
  logout_urls                          = ["${local.service_url}${var.sign_out_path}"]

  # No password sign-in through the API: only the hosted UI (with MFA) issues tokens.
  explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  id_token_validity      = var.id_token_validity_minutes
  access_token_validity  = var.id_token_validity_minutes
  refresh_token_validity = var.refresh_token_validity_hours
  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "hours"
  }
}

# The owner, invited by email with a temporary password (changed, and TOTP set up, at the
# first sign-in). Optional: the owner can also be created with `aws cognito-idp
# admin-create-user`.
resource "aws_cognito_user" "owner" {
  count = var.owner_email == null ? 0 : 1

  user_pool_id             = aws_cognito_user_pool.this.id
  username                 = var.owner_email
  desired_delivery_mediums = ["EMAIL"]

  attributes = {
    email          = var.owner_email
    email_verified = "true"
  }
}
