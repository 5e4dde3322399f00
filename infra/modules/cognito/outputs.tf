output "user_pool_id" {
  description = "User pool id."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "User pool ARN."
  value       = aws_cognito_user_pool.this.arn
}

output "issuer" {
  description = "OIDC issuer (the iss claim of the pool's tokens): AUTH_OIDC_ISSUER."
  value       = "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "jwks_uri" {
  description = "Where the pool's signing keys are published (the issuer's discovery document says the same)."
  value       = "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json"
}

output "client_id" {
  description = "App client id: the aud of ID tokens and client_id of access tokens, AUTH_OIDC_AUDIENCE."
  value       = aws_cognito_user_pool_client.browser.id
}

output "hosted_ui_url" {
  description = "Base URL of the hosted UI and the OAuth endpoints (/oauth2/authorize, /oauth2/token, /logout)."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${local.region}.amazoncognito.com"
}

output "callback_url" {
  description = "The registered callback URL."
  value       = one(aws_cognito_user_pool_client.browser.callback_urls)
}

output "sign_out_url" {
  description = "The registered sign-out URL."
  value       = one(aws_cognito_user_pool_client.browser.logout_urls)
}
