# Wiring test for environments/dev: Aurora that scales to zero, disposable, with alarms and
# settings for the same environment name.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  vpc_id                 = "vpc-0123456789abcdef0"
  private_subnet_ids     = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa"]
  alarm_email_addresses  = ["owner@example.com"]
}

run "dev_scales_to_zero_and_is_disposable" {
  command = plan

  assert {
    condition     = module.database.scales_to_zero && module.database.seconds_until_auto_pause == 300
    error_message = "dev must scale to zero after 300 idle seconds."
  }

  assert {
    condition     = module.database.cluster_id == "rms-dev" && length(module.database.instance_ids) == 1
    error_message = "dev is one writer named rms-dev."
  }

  assert {
    condition     = module.app_config.path == "/rms/dev"
    error_message = "dev settings live under /rms/dev."
  }

  assert {
    condition     = alltrue([for n in values(module.monitoring.service_alarm_names) : startswith(n, "rms-dev-service-")]) && length(module.monitoring.db_alarm_names) == 5
    error_message = "dev gets the Aurora alarm set and the service alarms."
  }
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
