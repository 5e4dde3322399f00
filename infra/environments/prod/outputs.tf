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
  description = "Database KMS key."
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
