# Wiring test for environments/dev: Aurora that scales to zero, disposable, with alarms and
# settings for the same environment name.

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
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"monitoring.rds.amazonaws.com\"}}]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/rms-env-rds-monitoring"
    }
  }

  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0db0000000000000a"
    }
  }
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
