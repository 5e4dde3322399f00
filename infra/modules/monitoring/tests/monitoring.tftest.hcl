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
    condition     = toset(keys(aws_cloudwatch_metric_alarm.db)) == toset(["cpu", "freeable_memory", "connections", "serverless_capacity", "acu_utilization", "never_pauses"])
    error_message = "Aurora gets CPU, memory, connections, capacity, ACU utilization and never-pauses alarms (no free-storage alarm)."
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
    condition     = length(aws_cloudwatch_metric_alarm.db) == 6 && length(aws_cloudwatch_metric_alarm.service) == 5 && alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.db), values(aws_cloudwatch_metric_alarm.service)) : a.alarm_actions == toset([aws_sns_topic.alarms.arn])])
    error_message = "Every alarm must notify the module's SNS topic."
  }

  assert {
    # Review: with ok_actions every new alarm notified its first INSUFFICIENT_DATA -> OK.
    condition     = length(aws_cloudwatch_metric_alarm.db) == 6 && alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.db), values(aws_cloudwatch_metric_alarm.service)) : length(coalesce(a.ok_actions, [])) == 0 && length(coalesce(a.insufficient_data_actions, [])) == 0])
    error_message = "No alarm may have OK (or INSUFFICIENT_DATA) actions: recoveries go through the EventBridge rule."
  }
}

run "never_pauses_alarm" {
  # Review: no alarm caught the costliest failure, a cluster that never pauses.
  command = plan

  variables {
    database_type = "aurora"
    db_identifier = "rms-test"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db["never_pauses"].metric_name == "ServerlessDatabaseCapacity" && aws_cloudwatch_metric_alarm.db["never_pauses"].statistic == "Minimum" && aws_cloudwatch_metric_alarm.db["never_pauses"].comparison_operator == "GreaterThanThreshold" && aws_cloudwatch_metric_alarm.db["never_pauses"].threshold == 0
    error_message = "never_pauses must alarm when the minimum capacity stays above 0."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db["never_pauses"].period * aws_cloudwatch_metric_alarm.db["never_pauses"].evaluation_periods == 86400
    error_message = "never_pauses must look at a whole day."
  }
}

run "no_never_pauses_alarm_for_a_cluster_with_a_floor" {
  command = plan

  variables {
    database_type       = "aurora"
    db_identifier       = "rms-test"
    aurora_expect_pause = false
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.db), "never_pauses") && contains(keys(aws_cloudwatch_metric_alarm.db), "serverless_capacity")
    error_message = "A cluster with a non-zero minimum never pauses by design: no never_pauses alarm."
  }
}

run "recoveries_only_from_alarm" {
  command = plan

  variables {
    database_type = "aurora"
    db_identifier = "rms-test"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.recovered.event_pattern).detail.previousState.value == ["ALARM"] && jsondecode(aws_cloudwatch_event_rule.recovered.event_pattern).detail.state.value == ["OK"]
    error_message = "Only ALARM -> OK transitions may be forwarded (never INSUFFICIENT_DATA -> OK)."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.recovered.event_pattern).detail.alarmName == [{ prefix = "rms-test-" }] && aws_cloudwatch_event_target.recovered.arn == aws_sns_topic.alarms.arn
    error_message = "The rule must match this module's alarms and target its topic."
  }
}

run "lambda_alarms" {
  command = plan

  variables {
    database_type          = "aurora"
    db_identifier          = "rms-test"
    lambda_function_name   = "rms-test-service"
    lambda_timeout_seconds = 30
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.lambda)) == toset(["errors", "throttles", "duration_near_timeout"]) && alltrue([for a in aws_cloudwatch_metric_alarm.lambda : a.namespace == "AWS/Lambda" && a.dimensions == tomap({ FunctionName = "rms-test-service" })])
    error_message = "The function gets errors, throttles and duration alarms on AWS/Lambda."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda["duration_near_timeout"].threshold == 24000 && aws_cloudwatch_metric_alarm.lambda["duration_near_timeout"].statistic == "Maximum"
    error_message = "Duration must alarm at 80% of the 30 s timeout (24,000 ms)."
  }

  assert {
    condition     = output.alarm_count == 14
    error_message = "Aurora (6) + service metrics (5) + function (3) = 14 alarms."
  }
}

run "shared_kms_key_and_no_budget" {
  command = plan

  variables {
    database_type  = "rds"
    db_identifier  = "rms-prod"
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    create_budget  = false
  }

  assert {
    condition     = length(aws_kms_key.alarms) == 0 && aws_sns_topic.alarms.kms_master_key_id == var.kms_key_arn && output.kms_key_arn == var.kms_key_arn
    error_message = "With create_kms_key = false the topic uses the given key and no key is created."
  }

  assert {
    condition     = length(aws_budgets_budget.monthly) == 0 && output.budget_name == null
    error_message = "create_budget = false must create no budget."
  }
}

run "rejects_a_key_both_created_and_passed" {
  command = plan

  variables {
    database_type  = "rds"
    db_identifier  = "rms-prod"
    create_kms_key = true
    kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [var.kms_key_arn]
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
    # AWS-managed keys by default: no customer key (1-3 $ a month), and not aws/sns either,
    # whose policy would stop CloudWatch, Budgets and EventBridge from publishing.
    condition     = length(aws_kms_key.alarms) == 0 && length(aws_kms_alias.alarms) == 0 && aws_sns_topic.alarms.kms_master_key_id == null && output.kms_key_arn == null
    error_message = "By default the module creates no KMS key and the alarm topic has none."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1
    error_message = "Alarm emails must be subscribed."
  }

  assert {
    condition     = aws_budgets_budget.monthly[0].budget_type == "COST" && aws_budgets_budget.monthly[0].time_unit == "MONTHLY" && aws_budgets_budget.monthly[0].limit_amount == "25.00" && aws_budgets_budget.monthly[0].limit_unit == "USD"
    error_message = "A monthly USD cost budget is expected."
  }

  assert {
    condition     = length(aws_budgets_budget.monthly[0].notification) == 2 && alltrue([for n in aws_budgets_budget.monthly[0].notification : contains(n.subscriber_sns_topic_arns, aws_sns_topic.alarms.arn) && contains(n.subscriber_email_addresses, "owner@example.com")])
    error_message = "Budget notifications must go to the topic and the email addresses."
  }

  assert {
    condition     = one(one(aws_budgets_budget.monthly[0].cost_filter).values) == "user:Project$rms"
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

run "own_kms_key_on_request" {
  command = apply

  variables {
    database_type  = "aurora"
    db_identifier  = "rms-test"
    create_kms_key = true
  }

  assert {
    condition     = length(aws_kms_key.alarms) == 1 && aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms[0].arn && output.kms_key_arn == aws_kms_key.alarms[0].arn
    error_message = "With create_kms_key = true the alarm topic must be encrypted with the module's own KMS key."
  }

  assert {
    condition     = aws_kms_key.alarms[0].enable_key_rotation == true && aws_kms_key.alarms[0].rotation_period_in_days == 365 && aws_kms_alias.alarms[0].name == "alias/rms-test-alarms"
    error_message = "The topic's key rotates yearly (the rotations the cost model prices) and has its alias."
  }

  assert {
    condition     = strcontains(aws_kms_key.alarms[0].policy, "cloudwatch.amazonaws.com") && strcontains(aws_kms_key.alarms[0].policy, "budgets.amazonaws.com") && strcontains(aws_kms_key.alarms[0].policy, "events.amazonaws.com")
    error_message = "CloudWatch, Budgets and EventBridge must be able to use the topic's key."
  }
}
