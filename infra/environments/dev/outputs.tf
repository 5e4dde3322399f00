output "service_url" {
  description = "Where the owner opens RMS (the HTTP API's HTTPS endpoint)."
  value       = module.service.service_url
}

output "function_name" {
  description = "The service's Lambda function."
  value       = module.service.function_name
}

output "issuer" {
  description = "OIDC issuer of the user pool (AUTH_OIDC_ISSUER)."
  value       = module.sign_in.issuer
}

output "client_id" {
  description = "The browser app client (AUTH_OIDC_AUDIENCE)."
  value       = module.sign_in.client_id
}

output "hosted_ui_url" {
  description = "Cognito hosted UI base URL."
  value       = module.sign_in.hosted_ui_url
}

output "writer_endpoint" {
  description = "Aurora writer endpoint."
  value       = module.database.writer_endpoint
}

output "reader_endpoint" {
  description = "Aurora reader endpoint."
  value       = module.database.reader_endpoint
}

output "port" {
  description = "Database port."
  value       = module.database.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret with the master credentials (for the bootstrap and migrations only)."
  value       = module.database.master_user_secret_arn
}

output "security_group_id" {
  description = "Database security group."
  value       = module.database.security_group_id
}

output "cluster_id" {
  description = "Aurora cluster identifier."
  value       = module.database.cluster_id
}

output "kms_key_arn" {
  description = "The stack's customer-managed KMS key; null with AWS-managed keys (customer_managed_key = false, the default)."
  value       = module.database.kms_key_arn
}

output "vpc_id" {
  description = "The environment's VPC."
  value       = module.network.vpc_id
}

output "ssm_parameter_path" {
  description = "Where operators read the service settings."
  value       = module.app_config.path
}

output "alarm_topic_arn" {
  description = "SNS topic for alarms, recoveries and budget notifications."
  value       = module.monitoring.sns_topic_arn
}

output "alarm_count" {
  description = "CloudWatch alarms in the stack (rms cost estimate prices them)."
  value       = module.monitoring.alarm_count
}

output "customer_managed_key" {
  description = "Whether the stack uses its one customer-managed KMS key (true) or the AWS-managed keys (false); what rms cost estimate --stack prices (--customer-managed-key)."
  value       = var.customer_managed_key
}
