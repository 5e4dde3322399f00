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
  description = "Secrets Manager secret with the master credentials."
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
  description = "Database KMS key."
  value       = module.database.kms_key_arn
}

output "ssm_parameter_path" {
  description = "Where the service reads its settings."
  value       = module.app_config.path
}

output "alarm_topic_arn" {
  description = "SNS topic for alarms and budget notifications."
  value       = module.monitoring.sns_topic_arn
}
