# Unit tests for the monitoring module: alarm metrics, namespaces and dimensions for both
# database types, the service metric contract, the encrypted topic and the budget.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/test"
      user_id    = "AIDATEST"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Principal\":{\"Service\":\"cloudwatch.amazonaws.com\"},\"Resource\":\"arn:aws:sns:us-east-1:123456789012:rms-test-alarms\"}]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"
      key_id = "99999999-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:rms-test-alarms"
    }
  }
}

variables {
  name               = "rms-test"
  environment        = "test"
  monthly_budget_usd = 25
}

run "aurora_alarms" {
  command = apply

  variables {
    database_type       = "aurora"
    db_identifier       = "rms-test"
    aurora_max_capacity = 4
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.db)) == toset(["cpu", "freeable_memory", "connections", "serverless_capacity", "acu_utilization"])
    error_message = "Aurora gets CPU, memory, connections, capacity and ACU utilization alarms (no free-storage alarm)."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.db : a.namespace == "AWS/RDS" && a.dimensions == tomap({ DBClusterIdentifier = "rms-test" })])
    error_message = "Aurora alarms must be in AWS/RDS with the DBClusterIdentifier dimension only."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db["serverless_capacity"].metric_name == "ServerlessDatabaseCapacity" && aws_cloudwatch_metric_alarm.db["serverless_capacity"].threshold == 3.6 && aws_cloudwatch_metric_alarm.db["serverless_capacity"].comparison_operator == "GreaterThanOrEqualToThreshold"
    error_message = "ServerlessDatabaseCapacity must alarm at 90% of max_capacity (3.6 of 4 ACU)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db["acu_utilization"].metric_name == "ACUUtilization" && aws_cloudwatch_metric_alarm.db["cpu"].metric_name == "CPUUtilization" && aws_cloudwatch_metric_alarm.db["freeable_memory"].metric_name == "FreeableMemory" && aws_cloudwatch_metric_alarm.db["connections"].metric_name == "DatabaseConnections"
    error_message = "Database alarm metric names must be AWS/RDS's."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.db : a.treat_missing_data == "notBreaching"])
    error_message = "A paused database emits few metrics: missing data must not breach."
  }

  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.db), values(aws_cloudwatch_metric_alarm.service)) : a.alarm_actions == toset([aws_sns_topic.alarms.arn])])
    error_message = "Every alarm must notify the module's SNS topic."
  }
}

run "rds_alarms" {
  command = plan

  variables {
    database_type = "rds"
    db_identifier = "rms-prod"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.db)) == toset(["cpu", "freeable_memory", "connections", "free_storage"])
    error_message = "RDS gets CPU, memory, connections and free-storage alarms (no ACU alarms)."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.db : a.namespace == "AWS/RDS" && a.dimensions == tomap({ DBInstanceIdentifier = "rms-prod" })])
    error_message = "RDS alarms must use the DBInstanceIdentifier dimension only."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db["free_storage"].metric_name == "FreeStorageSpace" && aws_cloudwatch_metric_alarm.db["free_storage"].comparison_operator == "LessThanThreshold"
    error_message = "FreeStorageSpace must alarm when low."
  }
}

run "service_metric_contract" {
  command = plan

  variables {
    database_type = "aurora"
    db_identifier = "rms-test"
  }

  assert {
    condition     = toset([for a in aws_cloudwatch_metric_alarm.service : a.metric_name]) == toset(["ColdStartCount", "ColdStartDurationMs", "ConnectRetryCount", "TransactionRetryCount", "ConnectFailureCount"])
    error_message = "There must be one alarm per service metric of the contract."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.service : a.namespace == "RMS/Database" && a.dimensions == tomap({ Service = "rms", Environment = "test" })])
    error_message = "Service alarms must use namespace RMS/Database and dimensions Service=rms, Environment=<environment>."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.service["connect_failures"].threshold == 1 && aws_cloudwatch_metric_alarm.service["connect_failures"].statistic == "Sum"
    error_message = "A single 503 after the cold-start budget must alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.service["cold_start_duration"].statistic == "Maximum" && aws_cloudwatch_metric_alarm.service["cold_start_duration"].threshold < 45000
    error_message = "Cold-start duration must alarm on the maximum, before the 45 s budget."
  }
}

run "topic_dashboard_budget" {
  command = apply

  variables {
    database_type          = "aurora"
    db_identifier          = "rms-test"
    alarm_email_addresses  = ["owner@example.com"]
    budget_email_addresses = ["owner@example.com"]
    budget_cost_filter_tag = { key = "Project", value = "rms" }
  }

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms.arn && aws_kms_key.alarms.enable_key_rotation
    error_message = "The alarm topic must be encrypted with the module's rotating KMS key."
  }

  assert {
    condition     = strcontains(aws_kms_key.alarms.policy, "cloudwatch.amazonaws.com") && strcontains(aws_kms_key.alarms.policy, "budgets.amazonaws.com")
    error_message = "CloudWatch and Budgets must be able to use the topic's key."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1
    error_message = "Alarm emails must be subscribed."
  }

  assert {
    condition     = aws_budgets_budget.monthly.budget_type == "COST" && aws_budgets_budget.monthly.time_unit == "MONTHLY" && aws_budgets_budget.monthly.limit_amount == "25.00" && aws_budgets_budget.monthly.limit_unit == "USD"
    error_message = "A monthly USD cost budget is expected."
  }

  assert {
    condition     = length(aws_budgets_budget.monthly.notification) == 2 && alltrue([for n in aws_budgets_budget.monthly.notification : contains(n.subscriber_sns_topic_arns, aws_sns_topic.alarms.arn) && contains(n.subscriber_email_addresses, "owner@example.com")])
    error_message = "Budget notifications must go to the topic and the email addresses."
  }

  assert {
    condition     = one(one(aws_budgets_budget.monthly.cost_filter).values) == "user:Project$rms"
    error_message = "The optional tag filter must use the user:Key$Value form."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "ServerlessDatabaseCapacity") && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "RMS/Database") && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "ColdStartDurationMs")
    error_message = "The dashboard must show capacity and the service metrics."
  }
}

run "rejects_unknown_database_type" {
  command = plan

  variables {
    database_type = "dynamodb"
    db_identifier = "x"
  }

  expect_failures = [var.database_type]
}
