# Alarms, dashboard and cost budget for one RMS database (Aurora Serverless v2 cluster or RDS
# instance) and for the service's own database-access metrics.
#
# Metric contract with the Python service (CloudWatch embedded metric format):
#   namespace  "RMS/Database"
#   dimensions { Service = "rms", Environment = <environment> }
#   metrics    ColdStartCount (Count), ColdStartDurationMs (Milliseconds),
#              ConnectRetryCount (Count), TransactionRetryCount (Count),
#              ConnectFailureCount (Count: 503 answered after the cold-start budget ran out)
#
# A paused Aurora instance emits only CPUUtilization, ACUUtilization (0) and
# ServerlessDatabaseCapacity (0); every alarm therefore treats missing data as not breaching,
# so a sleeping database is quiet rather than "insufficient data" or alarming.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  is_aurora = var.database_type == "aurora"

  db_dimensions = local.is_aurora ? { DBClusterIdentifier = var.db_identifier } : { DBInstanceIdentifier = var.db_identifier }

  service_dimensions = {
    Service     = var.service_name
    Environment = var.environment
  }

  common_db_alarms = {
    cpu = {
      metric_name = "CPUUtilization"
      statistic   = "Average"
      comparison  = "GreaterThanThreshold"
      threshold   = var.cpu_utilization_threshold_percent
      period      = 300
      evaluations = 3
      description = "CPU above ${var.cpu_utilization_threshold_percent}% for 15 minutes."
    }
    freeable_memory = {
      metric_name = "FreeableMemory"
      statistic   = "Minimum"
      comparison  = "LessThanThreshold"
      threshold   = var.freeable_memory_threshold_bytes
      period      = 300
      evaluations = 3
      description = "Freeable memory below ${var.freeable_memory_threshold_bytes} bytes for 15 minutes."
    }
    connections = {
      metric_name = "DatabaseConnections"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.database_connections_threshold
      period      = 300
      evaluations = 2
      description = "More than ${var.database_connections_threshold} connections: a leak, and on Aurora a database that can never pause."
    }
  }

  aurora_db_alarms = {
    serverless_capacity = {
      metric_name = "ServerlessDatabaseCapacity"
      statistic   = "Maximum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.aurora_max_capacity * var.capacity_alarm_ratio
      period      = 300
      evaluations = 3
      description = "Capacity at ${var.capacity_alarm_ratio * 100}% of max_capacity (${var.aurora_max_capacity} ACU) for 15 minutes: raise max_capacity or find the load."
    }
    acu_utilization = {
      metric_name = "ACUUtilization"
      statistic   = "Average"
      comparison  = "GreaterThanThreshold"
      threshold   = var.acu_utilization_threshold_percent
      period      = 300
      evaluations = 3
      description = "ACU utilization above ${var.acu_utilization_threshold_percent}% of max_capacity for 15 minutes."
    }
  }

  # The costliest failure of a scale-to-zero cluster: it never pauses (a leaked connection, a
  # health check that connects, a pause delay longer than the gaps). The minimum capacity of
  # every hour of a day above 0 means it was awake all day: about 0.5 ACU x 24 h x 0.12 $ =
  # 1.44 $ a day, 44 $ a month.
  never_pauses_alarm = {
    never_pauses = {
      metric_name = "ServerlessDatabaseCapacity"
      statistic   = "Minimum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
      period      = 3600
      evaluations = 24
      description = "The cluster's capacity stayed above 0 ACU for 24 hours: it never paused. Look for open sessions (pg_stat_activity) and health checks that connect."
    }
  }

  rds_db_alarms = {
    free_storage = {
      metric_name = "FreeStorageSpace"
      statistic   = "Minimum"
      comparison  = "LessThanThreshold"
      threshold   = var.free_storage_threshold_bytes
      period      = 300
      evaluations = 1
      description = "Free storage below ${var.free_storage_threshold_bytes} bytes (storage autoscaling may have reached max_allocated_storage)."
    }
  }

  db_alarms = merge(
    local.common_db_alarms,
    local.is_aurora ? local.aurora_db_alarms : local.rds_db_alarms,
    local.is_aurora && var.aurora_expect_pause ? local.never_pauses_alarm : {},
  )

  # AWS/Lambda alarms for the service function (when one is given).
  lambda_alarms = var.lambda_function_name == null ? {} : {
    errors = {
      metric_name = "Errors"
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.lambda_errors_threshold
      period      = 300
      evaluations = 1
      description = "The service function failed (an unhandled error, a crash or a timeout) at least ${var.lambda_errors_threshold} time(s) in 5 minutes."
    }
    throttles = {
      metric_name = "Throttles"
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      period      = 300
      evaluations = 1
      description = "Requests were refused at the function's reserved concurrency: a flood, or a limit set too low."
    }
    duration_near_timeout = {
      metric_name = "Duration"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.lambda_timeout_seconds * 1000 * var.lambda_duration_alarm_ratio
      period      = 300
      evaluations = 1
      description = "A request ran longer than ${var.lambda_duration_alarm_ratio * 100}% of the ${var.lambda_timeout_seconds} s timeout (a slow resume of the database, or a slow query)."
    }
  }

  # The module's own key, else the one passed in, else none (see aws_sns_topic.alarms).
  alarm_topic_kms_key_arn = var.create_kms_key ? aws_kms_key.alarms[0].arn : var.kms_key_arn

  service_alarms = {
    connect_failures = {
      metric_name = "ConnectFailureCount"
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.connect_failure_threshold
      period      = 300
      evaluations = 1
      description = "Requests answered 503 because the database did not come up within the cold-start budget."
    }
    cold_start_duration = {
      metric_name = "ColdStartDurationMs"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.cold_start_duration_threshold_ms
      period      = 300
      evaluations = 1
      description = "A cold start took more than ${var.cold_start_duration_threshold_ms} ms, close to the 45 s budget."
    }
    cold_starts = {
      metric_name = "ColdStartCount"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.cold_starts_per_hour_threshold
      period      = 3600
      evaluations = 1
      description = "More than ${var.cold_starts_per_hour_threshold} cold starts in an hour: pause/resume churn; consider a longer seconds_until_auto_pause."
    }
    connect_retries = {
      metric_name = "ConnectRetryCount"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.connect_retry_threshold
      period      = 300
      evaluations = 1
      description = "More than ${var.connect_retry_threshold} connection retries in 5 minutes."
    }
    transaction_retries = {
      metric_name = "TransactionRetryCount"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.transaction_retry_threshold
      period      = 300
      evaluations = 1
      description = "More than ${var.transaction_retry_threshold} transaction retries in 5 minutes (serialization failures, deadlocks, disconnects)."
    }
  }

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "monitoring"
  })
}

################################################################################
# Encrypted SNS topic that CloudWatch alarms and AWS Budgets may publish to
################################################################################

resource "aws_kms_key" "alarms" {
  # Only with create_kms_key = true. One customer-managed key costs 1 $ a month (plus 1 $ for
  # each of its first two yearly rotations); a stack with a customer-managed database key
  # passes that one in (kms_key_arn) instead.
  count = var.create_kms_key ? 1 : 0

  description             = "${var.name}: alarm and budget notifications (SNS)"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnableIAMPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # Publishing to an encrypted topic needs the publisher to use the key.
        Sid       = "AllowAlarmAndBudgetPublishers"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })

  tags = local.tags
}

resource "aws_kms_alias" "alarms" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Encrypted with a customer-managed key when there is one (create_kms_key, or kms_key_arn: the stack's customer_managed_key = true). By default (AWS-managed keys) the topic has no key: the AWS-managed aws/sns key's policy cannot admit CloudWatch alarms, AWS Budgets or EventBridge, which would then fail to publish, and a customer-managed key costs 1-3 $ a month; the messages are alarm and budget notices with no secret in them, sent over TLS.
  name              = "${var.name}-alarms"
  kms_master_key_id = local.alarm_topic_kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AllowCloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "AllowRecoveryEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.recovered.arn]
    }
  }

  statement {
    sid       = "AllowBudgets"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_email_addresses)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "db" {
  for_each = local.db_alarms

  alarm_name          = "${var.name}-db-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric_name
  dimensions          = local.db_dimensions
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  # No ok_actions: CloudWatch would also notify the first INSUFFICIENT_DATA -> OK transition of
  # every new alarm. Recoveries (ALARM -> OK only) reach the topic through the EventBridge rule
  # below.
  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "service" {
  for_each = local.service_alarms

  alarm_name          = "${var.name}-service-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = var.service_metric_namespace
  metric_name         = each.value.metric_name
  dimensions          = local.service_dimensions
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  treat_missing_data  = "notBreaching" # no traffic, no metric: that is fine
  alarm_actions       = [aws_sns_topic.alarms.arn]
  # No ok_actions: CloudWatch would also notify the first INSUFFICIENT_DATA -> OK transition of
  # every new alarm. Recoveries (ALARM -> OK only) reach the topic through the EventBridge rule
  # below.
  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda" {
  for_each = local.lambda_alarms

  alarm_name          = "${var.name}-function-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric_name
  dimensions          = { FunctionName = var.lambda_function_name }
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  treat_missing_data  = "notBreaching" # an idle function publishes nothing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

################################################################################
# Recoveries: ALARM -> OK only (never the first INSUFFICIENT_DATA -> OK of a new alarm)
################################################################################

resource "aws_cloudwatch_event_rule" "recovered" {
  name        = "${var.name}-alarm-recovered"
  description = "${var.name}: an alarm went from ALARM back to OK"
  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail = {
      alarmName     = [{ prefix = "${var.name}-" }]
      previousState = { value = ["ALARM"] }
      state         = { value = ["OK"] }
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "recovered" {
  rule      = aws_cloudwatch_event_rule.recovered.name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.alarms.arn
}

################################################################################
# Dashboard
################################################################################

locals {
  db_dimension_list      = flatten([for k, v in local.db_dimensions : [k, v]])
  service_dimension_list = ["Service", var.service_name, "Environment", var.environment]

  db_metric_widgets = [
    for title, metrics in merge(
      local.is_aurora ? {
        "Capacity (ACU) and ACU utilization (%)" = [
          concat(["AWS/RDS", "ServerlessDatabaseCapacity"], local.db_dimension_list, [{ stat = "Maximum" }]),
          concat(["AWS/RDS", "ACUUtilization"], local.db_dimension_list, [{ stat = "Average", yAxis = "right" }]),
        ]
        } : {
        "Free storage (bytes)" = [
          concat(["AWS/RDS", "FreeStorageSpace"], local.db_dimension_list, [{ stat = "Minimum" }]),
        ]
      },
      {
        "CPU utilization (%)" = [
          concat(["AWS/RDS", "CPUUtilization"], local.db_dimension_list, [{ stat = "Average" }]),
        ]
        "Database connections" = [
          concat(["AWS/RDS", "DatabaseConnections"], local.db_dimension_list, [{ stat = "Maximum" }]),
        ]
        "Freeable memory (bytes)" = [
          concat(["AWS/RDS", "FreeableMemory"], local.db_dimension_list, [{ stat = "Minimum" }]),
        ]
      },
      ) : {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = title
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = metrics
      }
    }
  ]

  service_metric_widgets = [
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Cold starts and failures (count)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          concat([var.service_metric_namespace, "ColdStartCount"], local.service_dimension_list, [{ stat = "Sum" }]),
          concat([var.service_metric_namespace, "ConnectFailureCount"], local.service_dimension_list, [{ stat = "Sum" }]),
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Cold-start duration (ms)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          concat([var.service_metric_namespace, "ColdStartDurationMs"], local.service_dimension_list, [{ stat = "Maximum" }]),
          concat([var.service_metric_namespace, "ColdStartDurationMs"], local.service_dimension_list, [{ stat = "p50" }]),
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Retries (count)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          concat([var.service_metric_namespace, "ConnectRetryCount"], local.service_dimension_list, [{ stat = "Sum" }]),
          concat([var.service_metric_namespace, "TransactionRetryCount"], local.service_dimension_list, [{ stat = "Sum" }]),
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-database"
  dashboard_body = jsonencode({
    widgets = concat(local.db_metric_widgets, local.service_metric_widgets)
  })
}

################################################################################
# Monthly cost budget
################################################################################

resource "aws_budgets_budget" "monthly" {
  count = var.create_budget ? 1 : 0

  name         = "${var.name}-monthly-cost"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = var.budget_cost_filter_tag == null ? [] : [var.budget_cost_filter_tag]

    content {
      name   = "TagKeyValue"
      values = [format("user:%s$%s", cost_filter.value.key, cost_filter.value.value)]
    }
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = var.budget_alert_threshold_percent
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.budget_email_addresses
    subscriber_sns_topic_arns  = [aws_sns_topic.alarms.arn]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = var.budget_email_addresses
    subscriber_sns_topic_arns  = [aws_sns_topic.alarms.arn]
  }

  tags = local.tags

  depends_on = [aws_sns_topic_policy.alarms]
}
