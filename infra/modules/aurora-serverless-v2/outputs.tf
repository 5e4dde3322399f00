output "cluster_id" {
  description = "Cluster identifier (the DBClusterIdentifier CloudWatch dimension)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "cluster_arn" {
  description = "Cluster ARN."
  value       = aws_rds_cluster.this.arn
}

output "cluster_resource_id" {
  description = "Cluster resource id (for rds-db:connect IAM policies)."
  value       = aws_rds_cluster.this.cluster_resource_id
}

output "writer_endpoint" {
  description = "Writer (cluster) endpoint host name."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint host name (the writer answers it when there are no readers)."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "Database port."
  value       = aws_rds_cluster.this.port
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
  value       = try(aws_rds_cluster.this.master_user_secret[0].secret_arn, null)
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

output "instance_ids" {
  description = "Instance identifiers, writer first (DBInstanceIdentifier dimension)."
  value       = aws_rds_cluster_instance.this[*].identifier
}

output "log_group_name" {
  description = "CloudWatch Logs group of the exported postgresql log."
  value       = aws_cloudwatch_log_group.postgresql.name
}

output "max_capacity" {
  description = "Maximum ACUs (for capacity alarms)."
  value       = var.max_capacity
}

output "scales_to_zero" {
  description = "True when instances pause after seconds_until_auto_pause idle seconds."
  value       = local.scales_to_zero
}

output "seconds_until_auto_pause" {
  description = "Effective idle seconds before pausing, or null when the cluster never pauses (min_capacity > 0)."
  value       = local.auto_pause_seconds
}

output "deletion_protection" {
  description = "Whether deletion protection is on (true in production)."
  value       = aws_rds_cluster.this.deletion_protection
}

output "delete_automated_backups" {
  description = "Whether automated backups are deleted with the database (false in production)."
  value       = aws_rds_cluster.this.delete_automated_backups
}

output "master_password_rotation_days" {
  description = "Days between master password rotations set by this module, or null."
  value       = one(aws_secretsmanager_secret_rotation.master[*].rotation_rules[0].automatically_after_days)
}
