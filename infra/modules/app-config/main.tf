# Non-secret service settings in SSM Parameter Store under /rms/<environment>/. The service
# reads them at start-up; the password itself stays in Secrets Manager (DB_SECRET_ARN points
# to it) so it can rotate without touching these parameters.

locals {
  path = "${var.parameter_prefix}/${var.environment}"

  # DB_AUTO_PAUSE_SECONDS: a page view wakes the database ahead once it has not been seen for
  # this long (rms.db.wake). Without auto-pause there is nothing to wake: no parameter.
  auto_pause = var.seconds_until_auto_pause == null ? {} : {
    DB_AUTO_PAUSE_SECONDS = tostring(var.seconds_until_auto_pause)
  }

  parameters = merge(var.extra_parameters, local.auto_pause, {
    DB_HOST                      = var.db_host
    DB_PORT                      = tostring(var.db_port)
    DB_NAME                      = var.db_name
    DB_USER                      = var.db_user
    DB_SECRET_ARN                = var.db_secret_arn
    DB_SSLMODE                   = var.db_sslmode
    DB_IDLE_RELEASE_SECONDS      = tostring(var.idle_release_seconds)
    DB_COLD_START_BUDGET_SECONDS = tostring(var.cold_start_budget_seconds)
    # The service's EMF metrics carry Environment = ENVIRONMENT; the alarms match on it.
    ENVIRONMENT         = var.environment
    METRICS_EMF_ENABLED = "true"
  })

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "app-config"
  })
}

resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV2_AWS_34:These are non-secret settings (host, port, names, timeouts, the secret's ARN). The only secret, the password, is in Secrets Manager (aws/secretsmanager, or the stack's customer-managed key); String keeps the values readable by operators and needs no kms:Decrypt grant for the service.
  for_each = local.parameters

  name        = "${local.path}/${each.key}"
  description = "RMS ${var.environment}: ${each.key} (non-secret service setting)"
  type        = "String"
  tier        = "Standard"
  value       = each.value
  tags        = local.tags
}
