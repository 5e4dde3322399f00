# Wiring test for environments/prod: either engine, always protected, the same service and
# sign-in as dev.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  service_package_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  alarm_email_addresses  = ["owner@example.com"]
}

run "prod_rds_by_default" {
  command = plan

  assert {
    condition     = length(module.rds) == 1 && length(module.aurora) == 0 && output.db_identifier == "rms-prod" && output.database_engine == "rds"
    error_message = "prod defaults to RDS PostgreSQL, instance rms-prod."
  }

  assert {
    # Review: the production test never asserted the RDS deletion protection.
    condition     = module.rds[0].deletion_protection == true && output.deletion_protection == true
    error_message = "prod RDS must have deletion protection."
  }

  assert {
    condition     = module.rds[0].delete_automated_backups == false && output.delete_automated_backups == false
    error_message = "prod RDS must keep its automated backups after a delete."
  }

  assert {
    condition     = length(module.monitoring.db_alarm_names) == 4 && contains(keys(module.monitoring.db_alarm_names), "free_storage")
    error_message = "RDS gets the RDS alarm set, including free storage."
  }

  assert {
    condition     = module.app_config.path == "/rms/prod"
    error_message = "prod settings live under /rms/prod."
  }
}

run "prod_function_runs_what_make_package_builds" {
  command = plan

  assert {
    condition     = module.service.architecture == "arm64" && module.service.runtime == "python3.13"
    error_message = "prod's function must be arm64 on python3.13, make package's default LAMBDA_ARCH and LAMBDA_PYTHON."
  }
}

run "prod_function_on_x86_64_and_python3_12" {
  command = plan

  variables {
    service_architecture = "x86_64"
    service_runtime      = "python3.12"
  }

  assert {
    condition     = module.service.architecture == "x86_64" && module.service.runtime == "python3.12"
    error_message = "service_architecture and service_runtime must reach prod's function."
  }
}

run "prod_rds_service_connects_as_the_app_user" {
  command = apply

  assert {
    condition     = jsondecode(module.service.role_policy).Statement[0].Resource == "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/rms_app"
    error_message = "On RDS the function may connect as rms_app to the instance's resource id only."
  }

  assert {
    condition     = module.sign_in.callback_url == "${output.service_url}/auth/callback" && output.client_id != null && output.issuer != null
    error_message = "prod has the same sign-in wiring as dev."
  }
}

run "prod_aws_managed_keys_by_default" {
  command = apply

  assert {
    condition     = module.rds[0].customer_managed_key == false && output.customer_managed_key == false && output.kms_key_arn == null
    error_message = "prod must default to AWS-managed keys: no customer-managed KMS key."
  }

  assert {
    condition     = module.monitoring.kms_key_arn == null && module.service.log_kms_key_arn == null
    error_message = "With AWS-managed keys the alarm topic and the service's log groups take no customer key."
  }
}

run "prod_one_customer_managed_key_on_request" {
  command = apply

  variables {
    database_engine      = "aurora"
    customer_managed_key = true
  }

  assert {
    condition     = module.aurora[0].customer_managed_key && module.aurora[0].kms_key_arn != null && output.kms_key_arn == module.aurora[0].kms_key_arn
    error_message = "customer_managed_key = true must give the Aurora database its customer-managed key."
  }

  assert {
    condition     = module.monitoring.kms_key_arn == module.aurora[0].kms_key_arn && module.service.log_kms_key_arn == module.aurora[0].kms_key_arn
    error_message = "The alarm topic and the service's log groups must share the database key."
  }
}

run "prod_aurora_selectable" {
  command = plan

  variables {
    database_engine     = "aurora"
    aurora_reader_count = 1
  }

  assert {
    condition     = length(module.aurora) == 1 && length(module.rds) == 0
    error_message = "database_engine = aurora must create the Aurora cluster only."
  }

  assert {
    condition     = module.aurora[0].scales_to_zero && length(module.aurora[0].instance_ids) == 2
    error_message = "prod Aurora scales to zero, with the requested reader."
  }

  assert {
    condition     = module.aurora[0].deletion_protection == true && module.aurora[0].delete_automated_backups == false && output.deletion_protection == true
    error_message = "prod Aurora must have deletion protection and keep its automated backups."
  }

  assert {
    condition     = contains(keys(module.monitoring.db_alarm_names), "serverless_capacity") && contains(keys(module.monitoring.db_alarm_names), "never_pauses")
    error_message = "Aurora that scales to zero gets the capacity and never-pauses alarms."
  }
}

run "prod_aurora_without_pause" {
  command = plan

  variables {
    database_engine     = "aurora"
    aurora_min_capacity = 0.5
  }

  assert {
    condition     = module.aurora[0].scales_to_zero == false && module.aurora[0].seconds_until_auto_pause == null
    error_message = "A non-zero minimum must drop the pause delay instead of failing."
  }

  assert {
    condition     = !contains(keys(module.monitoring.db_alarm_names), "never_pauses")
    error_message = "A cluster with a floor never pauses by design: no never-pauses alarm."
  }
}

run "prod_rejects_unknown_engine" {
  command = plan

  variables {
    database_engine = "sqlite"
  }

  expect_failures = [var.database_engine]
}

run "prod_snapstart_off_by_default" {
  command = plan

  assert {
    condition     = module.service.snapstart == false
    error_message = "prod's function has no SnapStart by default."
  }
}

run "prod_snapstart_on_request" {
  command = plan

  variables {
    service_snapstart = true
  }

  assert {
    condition     = module.service.snapstart
    error_message = "service_snapstart = true must reach prod's function."
  }
}

run "prod_refuses_snapstart_on_python3_11" {
  command = plan

  variables {
    service_snapstart    = true
    service_architecture = "x86_64"
    service_runtime      = "python3.11"
  }

  expect_failures = [var.service_snapstart]
}
