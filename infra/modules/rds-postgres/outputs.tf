output "instance_id" {
  description = "Instance identifier (the DBInstanceIdentifier CloudWatch dimension)."
  value       = aws_db_instance.this.identifier
}

output "instance_arn" {
  description = "Instance ARN."
  value       = aws_db_instance.this.arn
}

output "instance_resource_id" {
  description = "Instance resource id (for rds-db:connect IAM policies)."
  value       = aws_db_instance.this.resource_id
}

output "endpoint" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Database port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the database."
  value       = var.database_name
}

output "master_username" {
  description = "Master user name."
  value       = var.master_username
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the master credentials (managed by RDS)."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "security_group_id" {
  description = "Security group of the database."
  value       = module.foundation.security_group_id
}

output "kms_key_arn" {
  description = "Customer-managed KMS key encrypting storage, secret, Performance Insights and logs; null with AWS-managed keys (customer_managed_key = false, the default)."
  value       = module.foundation.kms_key_arn
}

output "customer_managed_key" {
  description = "Whether the database uses a customer-managed KMS key (true) or the AWS-managed keys (false)."
  value       = var.customer_managed_key
}

output "log_group_names" {
  description = "CloudWatch Logs groups of the exported logs."
  value       = [for g in aws_cloudwatch_log_group.this : g.name]
}

output "allocated_storage" {
  description = "Initial storage in GiB (for free-storage alarms)."
  value       = var.allocated_storage
}

output "deletion_protection" {
  description = "Whether deletion protection is on (true in production)."
  value       = aws_db_instance.this.deletion_protection
}

output "delete_automated_backups" {
  description = "Whether automated backups are deleted with the database (false in production)."
  value       = aws_db_instance.this.delete_automated_backups
}

output "master_password_rotation_days" {
  description = "Days between master password rotations set by this module, or null."
  value       = one(aws_secretsmanager_secret_rotation.master[*].rotation_rules[0].automatically_after_days)
}
