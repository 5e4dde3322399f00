output "service_url" {
  description = "Where the owner opens RMS (the HTTP API's HTTPS endpoint)."
  value       = module.service.service_url
}

output "issuer" {
  description = "OIDC issuer of the user pool (AUTH_OIDC_ISSUER)."
  value       = module.sign_in.issuer
}

output "client_id" {
  description = "The browser app client (AUTH_OIDC_AUDIENCE)."
  value       = module.sign_in.client_id
}

output "deletion_protection" {
  description = "Deletion protection of the database (true)."
  value       = local.db.deletion_protection
}

output "delete_automated_backups" {
  description = "Whether the database's automated backups go with it (false)."
  value       = local.db.delete_automated_backups
}

output "database_engine" {
  description = "Which database this environment runs."
  value       = var.database_engine
}

output "writer_endpoint" {
  description = "Host the service connects to (Aurora writer endpoint or RDS address)."
  value       = local.db.host
}

output "reader_endpoint" {
  description = "Aurora reader endpoint (null for RDS)."
  value       = local.use_aurora ? module.aurora[0].reader_endpoint : null
}

output "port" {
  description = "Database port."
  value       = local.db.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret with the master credentials."
  value       = local.db.secret_arn
}

output "security_group_id" {
  description = "Database security group."
  value       = local.db.security_group_id
}

output "db_identifier" {
  description = "Aurora cluster identifier or RDS instance identifier."
  value       = local.db.identifier
}

output "kms_key_arn" {
  description = "The stack's customer-managed KMS key (the database's); null with AWS-managed keys (customer_managed_key = false, the default)."
  value       = local.db.kms_key_arn
}

output "ssm_parameter_path" {
  description = "Where the service reads its settings."
  value       = module.app_config.path
}

output "alarm_topic_arn" {
  description = "SNS topic for alarms and budget notifications."
  value       = module.monitoring.sns_topic_arn
}

output "customer_managed_key" {
  description = "Whether the stack uses its one customer-managed KMS key (true) or the AWS-managed keys (false); what rms cost estimate --stack prices (--customer-managed-key)."
  value       = var.customer_managed_key
}
