output "sns_topic_arn" {
  description = "Topic that receives alarm and budget notifications."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the topic."
  value       = aws_kms_key.alarms.arn
}

output "db_alarm_names" {
  description = "Database alarm names by key."
  value       = { for k, a in aws_cloudwatch_metric_alarm.db : k => a.alarm_name }
}

output "service_alarm_names" {
  description = "Service metric alarm names by key."
  value       = { for k, a in aws_cloudwatch_metric_alarm.service : k => a.alarm_name }
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "budget_name" {
  description = "AWS Budgets budget name."
  value       = aws_budgets_budget.monthly.name
}
