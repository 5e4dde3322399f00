output "sns_topic_arn" {
  description = "Topic that receives alarm and budget notifications."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the topic (the module's own, or the one passed in); null without a customer-managed key."
  value       = local.alarm_topic_kms_key_arn
}

output "lambda_alarm_names" {
  description = "Service function alarm names by key (empty without lambda_function_name)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.lambda : k => a.alarm_name }
}

output "alarm_count" {
  description = "How many CloudWatch alarms the module creates (the cost model prices them)."
  value       = length(aws_cloudwatch_metric_alarm.db) + length(aws_cloudwatch_metric_alarm.service) + length(aws_cloudwatch_metric_alarm.lambda)
}

output "recovery_rule_pattern" {
  description = "Event pattern of the rule that forwards ALARM -> OK transitions to the topic."
  value       = aws_cloudwatch_event_rule.recovered.event_pattern
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
  value       = one(aws_budgets_budget.monthly[*].name)
}
