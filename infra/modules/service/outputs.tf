output "service_url" {
  description = "Public HTTPS URL of the service (the HTTP API's default endpoint), without a trailing slash."
  value       = trimsuffix(aws_apigatewayv2_api.this.api_endpoint, "/")
}

output "service_host" {
  description = "Host name of the service URL (the service's allowed Host)."
  value       = trimprefix(trimsuffix(aws_apigatewayv2_api.this.api_endpoint, "/"), "https://")
}

output "function_name" {
  description = "Lambda function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Lambda function ARN."
  value       = aws_lambda_function.this.arn
}

output "timeout_seconds" {
  description = "Function timeout (the duration alarm fires near it)."
  value       = aws_lambda_function.this.timeout
}

output "role_arn" {
  description = "The function's IAM role."
  value       = aws_iam_role.function.arn
}

output "role_policy" {
  description = "The role's inline policy (JSON): rds-db:connect only."
  value       = aws_iam_role_policy.function.policy
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.function.name
}

output "api_id" {
  description = "HTTP API id."
  value       = aws_apigatewayv2_api.this.id
}

output "architecture" {
  description = "The function's architecture (the zip's wheels must be built for it)."
  value       = one(aws_lambda_function.this.architectures)
}

output "runtime" {
  description = "The function's runtime."
  value       = aws_lambda_function.this.runtime
}

output "log_kms_key_arn" {
  description = "Customer-managed key of the function's and the API's log groups; null with AWS-managed keys (CloudWatch Logs' own encryption)."
  value       = aws_cloudwatch_log_group.function.kms_key_id
}

output "snapstart" {
  description = "Whether SnapStart is on (the API then invokes the live alias of the published version)."
  value       = length(aws_lambda_function.this.snap_start) > 0
}

output "invoked_version" {
  description = "What the HTTP API invokes: the published version behind the live alias with SnapStart, else $LATEST."
  value       = var.snapstart ? aws_lambda_alias.live[0].function_version : "$LATEST"
}
