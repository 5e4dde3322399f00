# Wiring test for environments/dev: the whole stack (network, Aurora that scales to zero,
# the service on Lambda behind the HTTP API, Cognito sign-in, settings, monitoring), with
# AWS-managed keys (or one customer-managed key on request) and the service's configuration in
# its environment.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  service_package_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  alarm_email_addresses  = ["owner@example.com"]
}

run "dev_scales_to_zero_and_is_disposable" {
  command = plan

  assert {
    condition     = module.database.scales_to_zero && module.database.seconds_until_auto_pause == 300 && module.database.deletion_protection == false
    error_message = "dev must scale to zero after 300 idle seconds, and be disposable."
  }

  assert {
    condition     = module.database.cluster_id == "rms-dev" && length(module.database.instance_ids) == 1
    error_message = "dev is one writer named rms-dev."
  }

  assert {
    condition     = module.app_config.path == "/rms/dev"
    error_message = "dev settings live under /rms/dev."
  }
}

run "function_runs_what_make_package_builds" {
  command = plan

  assert {
    condition     = module.service.architecture == "arm64" && module.service.runtime == "python3.13"
    error_message = "dev's function must be arm64 on python3.13, the platform make package builds the wheels for by default (LAMBDA_ARCH, LAMBDA_PYTHON)."
  }
}

run "function_on_x86_64_and_the_older_runtime" {
  command = plan

  variables {
    service_architecture = "x86_64"
    service_runtime      = "python3.11"
  }

  assert {
    condition     = module.service.architecture == "x86_64" && module.service.runtime == "python3.11"
    error_message = "service_architecture and service_runtime must reach the function."
  }
}

run "function_refuses_arm64_on_python3_11" {
  command = plan

  variables {
    service_runtime = "python3.11"
  }

  expect_failures = [var.service_architecture]
}

run "function_refuses_an_unknown_runtime" {
  command = plan

  variables {
    service_runtime = "python3.14"
  }

  expect_failures = [var.service_runtime]
}

run "dev_capacity_and_pause_are_tunable" {
  command = plan

  variables {
    max_capacity             = 4
    seconds_until_auto_pause = 900
  }

  assert {
    condition     = module.database.max_capacity == 4 && module.database.seconds_until_auto_pause == 900
    error_message = "dev's max_capacity and pause delay must reach the cluster."
  }
}

run "service_configuration_reaches_the_function" {
  command = apply

  assert {
    condition     = output.service_url == "https://abc123defg.execute-api.us-east-1.amazonaws.com" && output.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI" && output.client_id == "1example23456789abcdefghij"
    error_message = "The service URL, the issuer and the client id must be outputs."
  }

  assert {
    condition     = module.sign_in.callback_url == "${output.service_url}/auth/callback" && module.sign_in.sign_out_url == "${output.service_url}/"
    error_message = "The Cognito client's callback and sign-out URLs must come from the service URL (the API is created before the function: no cycle)."
  }

  assert {
    condition     = local.service_settings.AUTH_OIDC_ISSUER == output.issuer && local.service_settings.AUTH_OIDC_AUDIENCE == output.client_id && local.service_settings.RMS_PUBLIC_URL == output.service_url
    error_message = "The function's environment must carry the issuer, the audience (client id) and the public URL."
  }

  assert {
    condition     = local.service_settings.DB_IAM_AUTH == "true" && local.service_settings.DB_USER == "rms_app" && local.service_settings.DB_HOST == output.writer_endpoint && !contains(keys(local.service_settings), "DB_SECRET_ARN")
    error_message = "The service logs in with an IAM token as rms_app, never with the master secret."
  }

  assert {
    condition     = module.app_config.parameter_names["AUTH_OIDC_ISSUER"] == "/rms/dev/AUTH_OIDC_ISSUER" && module.app_config.parameter_names["AUTH_OIDC_AUDIENCE"] == "/rms/dev/AUTH_OIDC_AUDIENCE"
    error_message = "The issuer and client id must also be in app-config (SSM) for operators."
  }

  assert {
    condition     = tonumber(local.service_settings.DB_COLD_START_BUDGET_SECONDS) + 5 <= module.service.timeout_seconds
    error_message = "The cold-start budget must leave the function time to answer its 503 before the HTTP API's 30 s."
  }
}

run "aws_managed_keys_and_the_alarm_set" {
  command = apply

  assert {
    # issue 30: no customer-managed key by default (aws/rds, aws/secretsmanager, aws/lambda;
    # the log groups and the alarm topic without a key), what rms cost estimate --stack prices.
    condition     = var.customer_managed_key == false && output.customer_managed_key == false && module.database.customer_managed_key == false && output.kms_key_arn == null
    error_message = "dev must default to AWS-managed keys: no customer-managed KMS key."
  }

  assert {
    condition     = module.database.kms_key_arn == null && module.monitoring.kms_key_arn == null && module.service.log_kms_key_arn == null
    error_message = "With AWS-managed keys the database, the service's log groups and the alarm topic take no customer key."
  }

  assert {
    condition     = module.monitoring.alarm_count == 14 && output.alarm_count == 14 && length(module.monitoring.lambda_alarm_names) == 3
    error_message = "dev has 14 alarms: Aurora (6 with never-pauses), service metrics (5), function (3)."
  }
}

run "one_customer_managed_key_on_request" {
  command = apply

  variables {
    customer_managed_key = true
  }

  assert {
    condition     = module.database.customer_managed_key && module.database.kms_key_arn != null && output.kms_key_arn == module.database.kms_key_arn && output.customer_managed_key
    error_message = "customer_managed_key = true must give the database its customer-managed key."
  }

  assert {
    condition     = module.monitoring.kms_key_arn == module.database.kms_key_arn && module.service.log_kms_key_arn == module.database.kms_key_arn
    error_message = "The alarm topic and the service's log groups must share the database key (one key: 1 $ a month, not 2)."
  }
}

run "local_apply_switches" {
  command = plan

  variables {
    dual_stack                    = false
    create_budget                 = false
    master_password_rotation_days = null
  }

  assert {
    condition     = module.network.dual_stack == false && module.monitoring.budget_name == null && module.database.master_password_rotation_days == null
    error_message = "The switches the local apply uses must turn off IPv6 subnets, the budget and the rotation."
  }
}

run "rejects_a_budget_beyond_the_http_api_limit" {
  command = plan

  variables {
    cold_start_budget_seconds = 45
  }

  expect_failures = [var.cold_start_budget_seconds]
}

run "dev_snapstart_off_by_default" {
  command = plan

  assert {
    condition     = module.service.snapstart == false
    error_message = "dev's function has no SnapStart by default."
  }
}

run "dev_snapstart_on_request" {
  command = plan

  variables {
    service_snapstart = true
  }

  assert {
    condition     = module.service.snapstart
    error_message = "service_snapstart = true must reach dev's function."
  }
}

run "dev_refuses_snapstart_on_python3_11" {
  command = plan

  variables {
    service_snapstart    = true
    service_architecture = "x86_64"
    service_runtime      = "python3.11"
  }

  expect_failures = [var.service_snapstart]
}
