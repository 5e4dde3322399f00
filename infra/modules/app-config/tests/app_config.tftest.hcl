# Unit tests for the app-config module: parameter names and values under /rms/<environment>/.

mock_provider "aws" {}

variables {
  environment   = "dev"
  db_host       = "rms-dev.cluster-abc.us-east-1.rds.amazonaws.com"
  db_name       = "rms"
  db_user       = "rms_admin"
  db_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc"
}

run "parameter_names_and_values" {
  command = plan

  assert {
    condition = toset([for p in aws_ssm_parameter.this : p.name]) == toset([
      "/rms/dev/DB_HOST",
      "/rms/dev/DB_PORT",
      "/rms/dev/DB_NAME",
      "/rms/dev/DB_USER",
      "/rms/dev/DB_SECRET_ARN",
      "/rms/dev/DB_SSLMODE",
      "/rms/dev/DB_IDLE_RELEASE_SECONDS",
      "/rms/dev/DB_COLD_START_BUDGET_SECONDS",
      "/rms/dev/ENVIRONMENT",
      "/rms/dev/METRICS_EMF_ENABLED",
    ])
    error_message = "Exactly the service settings under /rms/dev/ expected."
  }

  assert {
    condition     = aws_ssm_parameter.this["DB_SSLMODE"].value == "verify-full" && aws_ssm_parameter.this["DB_IDLE_RELEASE_SECONDS"].value == "60" && aws_ssm_parameter.this["DB_COLD_START_BUDGET_SECONDS"].value == "45" && aws_ssm_parameter.this["DB_PORT"].value == "5432"
    error_message = "Defaults: verify-full, 60 s idle release, 45 s cold-start budget, port 5432."
  }

  assert {
    condition     = aws_ssm_parameter.this["ENVIRONMENT"].value == "dev" && aws_ssm_parameter.this["METRICS_EMF_ENABLED"].value == "true"
    error_message = "ENVIRONMENT must match the monitoring dimension, and EMF metrics must be on."
  }

  assert {
    condition     = aws_ssm_parameter.this["DB_SECRET_ARN"].value == var.db_secret_arn && alltrue([for p in aws_ssm_parameter.this : p.type == "String"])
    error_message = "Only the secret's ARN is stored, as a plain String; no secret value."
  }

  assert {
    condition     = output.path == "/rms/dev"
    error_message = "The path output must be /rms/<environment>."
  }
}

run "extra_parameters" {
  command = plan

  variables {
    environment      = "prod"
    extra_parameters = { DB_CONNECT_TIMEOUT_SECONDS = "20" }
  }

  assert {
    condition     = aws_ssm_parameter.this["DB_CONNECT_TIMEOUT_SECONDS"].name == "/rms/prod/DB_CONNECT_TIMEOUT_SECONDS" && length(aws_ssm_parameter.this) == 11
    error_message = "Extra parameters are stored under the same path."
  }
}

run "rejects_pool_that_outlives_auto_pause" {
  command = plan

  variables {
    idle_release_seconds     = 300
    seconds_until_auto_pause = 300
  }

  expect_failures = [var.idle_release_seconds]
}

run "pool_that_drains_in_time_is_accepted" {
  # The same rule as above with the pool draining in half the pause delay: it plans.
  command = plan

  variables {
    idle_release_seconds      = 150
    seconds_until_auto_pause  = 300
    cold_start_budget_seconds = 20
  }

  assert {
    condition     = aws_ssm_parameter.this["DB_IDLE_RELEASE_SECONDS"].value == "150" && aws_ssm_parameter.this["DB_COLD_START_BUDGET_SECONDS"].value == "20"
    error_message = "150 s idle release (half of 300 s) and a 20 s budget (behind the HTTP API) must be accepted."
  }
}

run "rejects_plaintext_sslmode" {
  command = plan

  variables {
    db_sslmode = "disable"
  }

  expect_failures = [var.db_sslmode]
}

run "rejects_short_cold_start_budget" {
  command = plan

  variables {
    cold_start_budget_seconds = 5
  }

  expect_failures = [var.cold_start_budget_seconds]
}

run "rejects_secret_looking_extra_parameter" {
  command = plan

  variables {
    extra_parameters = { DB_PASSWORD = "hunter2" }
  }

  expect_failures = [var.extra_parameters]
}

run "auto_pause_delay_reaches_the_service" {
  command = plan

  variables {
    seconds_until_auto_pause = 300
  }

  assert {
    condition     = aws_ssm_parameter.this["DB_AUTO_PAUSE_SECONDS"].value == "300"
    error_message = "DB_AUTO_PAUSE_SECONDS must carry the cluster's seconds_until_auto_pause (page views wake the database ahead after it)."
  }
}
