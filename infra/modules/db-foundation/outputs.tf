output "kms_key_arn" {
  description = "ARN of the customer-managed KMS key (storage, Performance Insights, log groups); null with AWS-managed keys (customer_managed_key = false)."
  value       = var.customer_managed_key ? aws_kms_key.this[0].arn : null
}

output "kms_key_id" {
  description = "Key id of the customer-managed KMS key (master user secret); null with AWS-managed keys."
  value       = var.customer_managed_key ? aws_kms_key.this[0].key_id : null
}

output "kms_key_rotation_enabled" {
  description = "Whether automatic rotation of the customer-managed key is on (always, when there is one); null with AWS-managed keys, which AWS rotates itself."
  value       = var.customer_managed_key ? aws_kms_key.this[0].enable_key_rotation : null
}

output "kms_key_policy" {
  description = "Key policy of the customer-managed KMS key (JSON); null with AWS-managed keys."
  value       = var.customer_managed_key ? aws_kms_key.this[0].policy : null
}

output "db_subnet_group_name" {
  description = "Name of the DB subnet group."
  value       = aws_db_subnet_group.this.name
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

output "ingress_rules" {
  description = "Ingress rules of the security group, keyed app-<position in app_security_group_ids>."
  value       = aws_vpc_security_group_ingress_rule.app
}

output "egress_rules" {
  description = "HTTPS egress rules of the security group, keyed by CIDR range."
  value       = aws_vpc_security_group_egress_rule.https
}

output "monitoring_role_arn" {
  description = "ARN of the Enhanced Monitoring role, available once the AWS managed policy is attached."
  value       = aws_iam_role.monitoring.arn

  # Instances that use the role must not start before it can publish metrics.
  depends_on = [aws_iam_role_policy_attachment.monitoring]
}

output "monitoring_policy_arn" {
  description = "ARN of the managed policy attached to the Enhanced Monitoring role."
  value       = aws_iam_role_policy_attachment.monitoring.policy_arn
}
