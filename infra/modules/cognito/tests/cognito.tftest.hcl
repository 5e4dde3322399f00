# Unit tests for the sign-in module: one owner, no sign-up, MFA required, a public browser
# client with the code grant (PKCE), URLs from the service's URL, issuer and client id out.
#
# Unlike the database tests, some asserts here do restate literals of main.tf (no sign-up, MFA
# ON, the code grant, no client secret): they are the sign-in requirements of issue 11 and no
# checkov check covers Cognito, so they are this module's only guard against a change to them.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name        = "rms-test"
  environment = "test"
  service_url = "https://abc123defg.execute-api.us-east-1.amazonaws.com/"
}

run "pool_for_one_owner" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only == true
    error_message = "No self sign-up: only an administrator creates users."
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "MFA must be required, with TOTP (an authenticator app)."
  }

  assert {
    condition     = aws_cognito_user_pool.this.password_policy[0].minimum_length == 14 && aws_cognito_user_pool.this.password_policy[0].require_symbols && aws_cognito_user_pool.this.password_policy[0].require_numbers && aws_cognito_user_pool.this.password_policy[0].require_uppercase && aws_cognito_user_pool.this.password_policy[0].require_lowercase
    error_message = "Passwords: at least 14 characters (the default) of all four classes."
  }

  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "ACTIVE"
    error_message = "By default (is_production = true) the pool has deletion protection."
  }

  assert {
    condition     = length(aws_cognito_user.owner) == 0
    error_message = "Without owner_email no user is created."
  }
}

run "browser_client_code_grant_with_pkce" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool_client.browser.generate_secret == false && aws_cognito_user_pool_client.browser.allowed_oauth_flows == toset(["code"]) && aws_cognito_user_pool_client.browser.allowed_oauth_flows_user_pool_client
    error_message = "A public client (no secret) with the authorization code grant only."
  }

  assert {
    condition     = aws_cognito_user_pool_client.browser.allowed_oauth_scopes == toset(["openid", "email"])
    error_message = "Scopes: openid and email."
  }

  assert {
    condition     = aws_cognito_user_pool_client.browser.callback_urls == toset(["https://abc123defg.execute-api.us-east-1.amazonaws.com/auth/callback"]) && aws_cognito_user_pool_client.browser.logout_urls == toset(["https://abc123defg.execute-api.us-east-1.amazonaws.com/"])
    error_message = "Callback and sign-out URLs come from the service URL (its trailing slash dropped)."
  }

  assert {
    condition     = aws_cognito_user_pool_client.browser.explicit_auth_flows == toset(["ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "No password sign-in through the API: only the hosted UI issues tokens."
  }

  assert {
    condition     = aws_cognito_user_pool_client.browser.id_token_validity == 60 && aws_cognito_user_pool_client.browser.access_token_validity == 60 && aws_cognito_user_pool_client.browser.refresh_token_validity == 24 && aws_cognito_user_pool_client.browser.token_validity_units[0].refresh_token == "hours"
    error_message = "Tokens: 60 minutes (ID, access), refresh 24 hours by default."
  }
}

run "issuer_client_id_and_hosted_ui" {
  command = apply

  assert {
    condition     = output.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI" && output.jwks_uri == "${output.issuer}/.well-known/jwks.json"
    error_message = "The issuer is https://cognito-idp.<region>.amazonaws.com/<pool id>."
  }

  assert {
    condition     = output.client_id == aws_cognito_user_pool_client.browser.id && output.client_id == "1example23456789abcdefghij"
    error_message = "client_id must be the browser client's id."
  }

  assert {
    condition     = startswith(output.hosted_ui_url, "https://rms-test-") && endswith(output.hosted_ui_url, ".auth.us-east-1.amazoncognito.com") && aws_cognito_user_pool_domain.this.user_pool_id == aws_cognito_user_pool.this.id && aws_cognito_user_pool_domain.this.managed_login_version == 1
    error_message = "The hosted UI domain is <name>-<hash>.auth.<region>.amazoncognito.com, on the pool, classic UI (LITE tier)."
  }
}

run "dev_pool_is_disposable_and_owner_invited" {
  command = plan

  variables {
    is_production = false
    owner_email   = "owner@example.com"
    domain_prefix = "rms-test-owner"
  }

  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "INACTIVE"
    error_message = "Outside production the pool can be destroyed."
  }

  assert {
    condition     = aws_cognito_user.owner[0].username == "owner@example.com" && aws_cognito_user.owner[0].attributes["email"] == "owner@example.com" && aws_cognito_user.owner[0].desired_delivery_mediums == toset(["EMAIL"])
    error_message = "owner_email must invite the owner by email."
  }

  assert {
    condition     = aws_cognito_user_pool_domain.this.domain == "rms-test-owner"
    error_message = "domain_prefix must set the hosted UI domain."
  }
}

run "rejects_plain_http_service_url" {
  command = plan

  variables {
    service_url = "http://abc123defg.execute-api.us-east-1.amazonaws.com"
  }

  expect_failures = [var.service_url]
}

run "rejects_short_passwords" {
  command = plan

  variables {
    password_minimum_length = 8
  }

  expect_failures = [var.password_minimum_length]
}

run "rejects_reserved_domain_prefix" {
  command = plan

  variables {
    domain_prefix = "my-cognito-login"
  }

  expect_failures = [var.domain_prefix]
}
