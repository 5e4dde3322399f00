# Wiring test for environments/prod: either engine, always protected.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  vpc_id                 = "vpc-0123456789abcdef0"
  private_subnet_ids     = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa"]
  alarm_email_addresses  = ["owner@example.com"]
}

run "prod_rds_by_default" {
  command = plan

  assert {
    condition     = length(module.rds) == 1 && length(module.aurora) == 0
    error_message = "prod defaults to RDS PostgreSQL."
  }

  assert {
    condition     = output.db_identifier == "rms-prod" && output.database_engine == "rds"
    error_message = "prod RDS instance must be rms-prod."
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
    condition     = contains(keys(module.monitoring.db_alarm_names), "serverless_capacity")
    error_message = "Aurora gets the capacity alarm."
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
}

run "prod_rejects_unknown_engine" {
  command = plan

  variables {
    database_engine = "sqlite"
  }

  expect_failures = [var.database_engine]
}
