# Unit tests for the Aurora Serverless v2 module. Offline: the AWS provider is mocked with the
# database tests' shared mock data (infra/testing/aws-db). The key, subnet group, security group
# and monitoring role live in module.foundation (modules/db-foundation) and are asserted through
# its outputs.
#
# What is asserted here is what the module derives from its inputs (defaults, switches,
# wiring between resources). Settings that are literals in main.tf (storage encryption, IAM
# authentication, no public access, Performance Insights, rds.force_ssl, log exports, key
# rotation) are not re-asserted against the same literal: checkov checks them on every run
# (CKV_AWS_96, CKV_AWS_162, CKV_AWS_17, CKV_AWS_353, CKV_AWS_324, CKV_AWS_7, ...), with zero
# failed checks required by infra/check.sh.
#
# Each rejected input violates exactly one rule, and each rule sits on its own variable, so
# expect_failures names the rule that fired.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name                   = "rms-test"
  environment            = "test"
  vpc_id                 = "vpc-0123456789abcdef0"
  subnet_ids             = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa"]
}

run "defaults_scale_to_zero" {
  command = plan

  assert {
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].min_capacity == 0 && aws_rds_cluster.this.serverlessv2_scaling_configuration[0].max_capacity == 2
    error_message = "Defaults: min_capacity 0 (scale to zero), max_capacity 2."
  }

  assert {
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].seconds_until_auto_pause == 300 && output.seconds_until_auto_pause == 300
    error_message = "Default seconds_until_auto_pause must be 300, sent explicitly."
  }

  assert {
    condition     = length(aws_rds_cluster_instance.this) == 1 && output.scales_to_zero == true
    error_message = "Default is a single writer that scales to zero."
  }
}

run "engine_is_a_major_version" {
  # Review: a pinned minor (16.6) with automatic minor upgrades fails the plan after AWS
  # upgrades the cluster. The default is the major; the instances follow the cluster.
  command = plan

  assert {
    condition     = aws_rds_cluster.this.engine_version == "16" && alltrue([for i in aws_rds_cluster_instance.this : i.engine_version == aws_rds_cluster.this.engine_version])
    error_message = "The default engine_version must be the major \"16\" (no minor to drift from), on the cluster and its instances."
  }

  assert {
    condition     = aws_rds_cluster_parameter_group.this.family == "aurora-postgresql16"
    error_message = "The parameter group family must follow the engine major version."
  }
}

run "a_pinned_minor_is_still_accepted" {
  command = plan

  variables {
    engine_version = "15.7"
  }

  assert {
    condition     = aws_rds_cluster.this.engine_version == "15.7" && aws_rds_cluster_parameter_group.this.family == "aurora-postgresql15"
    error_message = "engine_version 15.7 must reach the cluster with the aurora-postgresql15 family."
  }
}

run "aws_managed_keys_by_default" {
  command = apply

  assert {
    # issue 30: aws/rds and aws/secretsmanager, no customer-managed key (1-3 $ a month).
    condition     = output.customer_managed_key == false && output.kms_key_arn == null && module.foundation.kms_key_id == null && module.foundation.kms_key_policy == null
    error_message = "By default the module must create no customer-managed key."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.kms_key_id == null
    error_message = "With AWS-managed keys the postgresql log group takes no customer key (CloudWatch Logs encrypts it)."
  }
}

run "encryption_uses_module_kms_key" {
  command = apply

  variables {
    customer_managed_key = true
  }

  assert {
    condition     = aws_rds_cluster.this.kms_key_id == module.foundation.kms_key_arn && aws_rds_cluster.this.master_user_secret_kms_key_id == module.foundation.kms_key_id
    error_message = "Storage and the master user secret must use the module's KMS key."
  }

  assert {
    condition     = aws_rds_cluster.this.performance_insights_kms_key_id == module.foundation.kms_key_arn && alltrue([for i in aws_rds_cluster_instance.this : i.performance_insights_kms_key_id == module.foundation.kms_key_arn])
    error_message = "Performance Insights must use the module's KMS key."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.kms_key_id == module.foundation.kms_key_arn && output.kms_key_arn == module.foundation.kms_key_arn
    error_message = "The postgresql log group must be encrypted with the module's KMS key, which is the kms_key_arn output."
  }
}

run "shared_key_admits_the_stack_log_groups_and_publishers" {
  command = apply

  variables {
    customer_managed_key             = true
    kms_extra_log_group_prefixes     = ["/aws/lambda/rms-test-"]
    kms_publisher_service_principals = ["cloudwatch.amazonaws.com"]
  }

  assert {
    condition     = jsondecode(module.foundation.kms_key_policy).Statement[1].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/cluster/rms-test/*", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/rms-test-*"]
    error_message = "The key must admit the cluster's log groups and the extra prefixes, and nothing else."
  }

  assert {
    condition     = length(jsondecode(module.foundation.kms_key_policy).Statement) == 3 && jsondecode(module.foundation.kms_key_policy).Statement[2].Principal.Service == ["cloudwatch.amazonaws.com"]
    error_message = "Publishers given must get their own statement."
  }
}

run "network_admits_only_app_security_groups" {
  command = apply

  variables {
    app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa", "sg-0cccccccccccccccc"]
  }

  assert {
    condition     = length(module.foundation.ingress_rules) == 2 && toset([for r in module.foundation.ingress_rules : r.referenced_security_group_id]) == toset(var.app_security_group_ids)
    error_message = "One ingress rule per application security group, referencing exactly those groups."
  }

  assert {
    condition     = length(module.foundation.ingress_rules) > 0 && alltrue([for r in module.foundation.ingress_rules : r.from_port == 5432 && r.to_port == 5432 && r.cidr_ipv4 == null && r.cidr_ipv6 == null])
    error_message = "Ingress must be the database port only, from groups, never from a CIDR."
  }

  assert {
    condition     = length(module.foundation.egress_rules) == 0
    error_message = "By default the database has no egress rule at all."
  }

  assert {
    condition     = aws_rds_cluster.this.vpc_security_group_ids == toset([module.foundation.security_group_id])
    error_message = "The cluster must use only the module's security group."
  }
}

run "optional_egress_is_https_to_given_cidrs" {
  command = plan

  variables {
    egress_cidr_blocks = ["10.20.0.0/16"]
  }

  assert {
    condition     = length(module.foundation.egress_rules) == 1 && module.foundation.egress_rules["10.20.0.0/16"].from_port == 443 && module.foundation.egress_rules["10.20.0.0/16"].cidr_ipv4 == "10.20.0.0/16"
    error_message = "Optional egress must be HTTPS to the given CIDRs only."
  }
}

run "backups_windows_logs_and_monitoring" {
  command = apply

  assert {
    condition     = aws_rds_cluster.this.backup_retention_period == 7 && aws_rds_cluster.this.preferred_backup_window == "03:00-04:00" && aws_rds_cluster.this.preferred_maintenance_window == "sun:04:30-sun:05:30"
    error_message = "7-day backups, backup window 03:00-04:00, maintenance sun:04:30-05:30 by default."
  }

  assert {
    # Review: instances had no maintenance window (AWS picks a random weekly slot).
    condition     = alltrue([for i in aws_rds_cluster_instance.this : i.preferred_maintenance_window == aws_rds_cluster.this.preferred_maintenance_window])
    error_message = "Every instance must have the cluster's maintenance window."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.name == "/aws/rds/cluster/rms-test/postgresql" && aws_cloudwatch_log_group.postgresql.retention_in_days == 365
    error_message = "The log group must be the one RDS exports to, with the default retention."
  }

  assert {
    condition     = alltrue([for i in aws_rds_cluster_instance.this : i.monitoring_interval == 60 && i.monitoring_role_arn == module.foundation.monitoring_role_arn])
    error_message = "Enhanced Monitoring must use the default interval and the module's role."
  }
}

run "maintenance_window_reaches_the_instances" {
  command = plan

  variables {
    preferred_maintenance_window = "wed:05:00-wed:06:00"
    reader_count                 = 1
  }

  assert {
    condition     = aws_rds_cluster_instance.this[0].preferred_maintenance_window == "wed:05:00-wed:06:00" && aws_rds_cluster_instance.this[1].preferred_maintenance_window == "wed:05:00-wed:06:00"
    error_message = "The maintenance window must reach the writer and the readers."
  }
}

run "parameter_group_has_a_name_prefix" {
  # Review: a fixed name with create_before_destroy collides when the group is replaced.
  command = plan

  assert {
    condition     = aws_rds_cluster_parameter_group.this.name_prefix == "rms-test-aurora-postgresql16-"
    error_message = "The parameter group must be named by prefix (<name>-<family>-), not a fixed name."
  }

  assert {
    condition     = one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "log_min_duration_statement"]) == "1000" && one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "idle_session_timeout"]) == "900000"
    error_message = "Slow-statement logging (1000 ms) and idle_session_timeout (15 min) come from the variables' defaults."
  }
}

run "dev_is_disposable" {
  command = plan

  variables {
    environment   = "dev"
    is_production = false
  }

  assert {
    condition     = aws_rds_cluster.this.deletion_protection == false && aws_rds_cluster.this.skip_final_snapshot == true && aws_rds_cluster.this.final_snapshot_identifier == null
    error_message = "Outside production the cluster is disposable: no deletion protection, no final snapshot."
  }

  assert {
    condition     = aws_rds_cluster.this.delete_automated_backups == true && output.delete_automated_backups == true
    error_message = "A disposable cluster takes its automated backups with it."
  }

  assert {
    condition     = aws_rds_cluster.this.enable_http_endpoint == false
    error_message = "The Data API is off by default."
  }
}

run "prod_is_protected" {
  command = plan

  # is_production is left at its default: protection must be on unless switched off.
  variables {
    environment          = "prod"
    enable_http_endpoint = true
  }

  assert {
    condition     = aws_rds_cluster.this.deletion_protection == true && output.deletion_protection == true
    error_message = "Production must have deletion protection."
  }

  assert {
    # Review: Aurora deleted its automated backups with the cluster (the provider's default).
    condition     = aws_rds_cluster.this.delete_automated_backups == false
    error_message = "Production must keep its automated backups after a delete."
  }

  assert {
    condition     = aws_rds_cluster.this.skip_final_snapshot == false && aws_rds_cluster.this.final_snapshot_identifier == "rms-test-final"
    error_message = "Production must take a final snapshot with a stable name (no timestamp())."
  }

  assert {
    condition     = aws_rds_cluster.this.enable_http_endpoint == true
    error_message = "enable_http_endpoint must turn on the Data API."
  }
}

run "master_password_rotation_is_configurable" {
  command = apply

  variables {
    master_password_rotation_days = 14
  }

  assert {
    condition     = length(aws_secretsmanager_secret_rotation.master) == 1 && aws_secretsmanager_secret_rotation.master[0].rotation_rules[0].automatically_after_days == 14 && output.master_password_rotation_days == 14
    error_message = "master_password_rotation_days must set the managed rotation of the master secret."
  }

  assert {
    condition     = aws_secretsmanager_secret_rotation.master[0].secret_id == aws_rds_cluster.this.master_user_secret[0].secret_arn && aws_secretsmanager_secret_rotation.master[0].rotation_lambda_arn == null
    error_message = "The rotation must be on the RDS-managed master secret, with RDS's managed rotation (no Lambda)."
  }
}

run "master_password_rotation_can_be_left_to_rds" {
  command = plan

  variables {
    master_password_rotation_days = null
  }

  assert {
    condition     = length(aws_secretsmanager_secret_rotation.master) == 0 && output.master_password_rotation_days == null
    error_message = "null must leave the secret's rotation as RDS set it."
  }
}

run "readers_are_serverless_too" {
  command = plan

  variables {
    reader_count = 2
  }

  assert {
    condition     = length(aws_rds_cluster_instance.this) == 3 && aws_rds_cluster_instance.this[0].identifier == "rms-test-writer" && aws_rds_cluster_instance.this[2].identifier == "rms-test-reader-2"
    error_message = "One writer and two readers with stable names expected."
  }

  assert {
    condition     = aws_rds_cluster_instance.this[0].promotion_tier == 0 && aws_rds_cluster_instance.this[1].promotion_tier == 1
    error_message = "Readers default to promotion tier 1 (pause and resume with the writer)."
  }
}

run "nonzero_min_without_pause_is_allowed" {
  command = plan

  variables {
    min_capacity             = 0.5
    seconds_until_auto_pause = null
  }

  assert {
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].min_capacity == 0.5 && output.seconds_until_auto_pause == null && output.scales_to_zero == false
    error_message = "min_capacity 0.5 with no auto-pause must plan, with no pause delay sent."
  }
}

run "rejects_nonzero_min_with_auto_pause" {
  command = plan

  variables {
    min_capacity             = 0.5
    seconds_until_auto_pause = 600
  }

  expect_failures = [var.min_capacity]
}

run "rejects_pause_below_300" {
  command = plan

  variables {
    seconds_until_auto_pause = 299
  }

  expect_failures = [var.seconds_until_auto_pause]
}

run "rejects_pause_above_86400" {
  command = plan

  variables {
    seconds_until_auto_pause = 86401
  }

  expect_failures = [var.seconds_until_auto_pause]
}

run "rejects_empty_app_security_groups" {
  command = plan

  variables {
    app_security_group_ids = []
  }

  expect_failures = [var.app_security_group_ids]
}

run "rejects_engine_without_scale_to_zero" {
  command = plan

  variables {
    engine_version = "16.2"
  }

  expect_failures = [var.engine_version]
}

run "accepts_an_old_minor_without_scale_to_zero" {
  # The scale-to-zero rule is the one that refused 16.2 above: with a non-zero minimum the
  # same version plans.
  command = plan

  variables {
    engine_version           = "16.2"
    min_capacity             = 0.5
    seconds_until_auto_pause = null
  }

  assert {
    condition     = aws_rds_cluster.this.engine_version == "16.2"
    error_message = "16.2 must be accepted for a cluster that does not scale to zero."
  }
}

run "rejects_postgresql_13" {
  # Review: 13 has no idle_session_timeout, which the parameter group sets.
  command = plan

  variables {
    engine_version = "13"
  }

  expect_failures = [var.engine_version]
}

run "rejects_max_below_min" {
  command = plan

  variables {
    min_capacity             = 4
    max_capacity             = 2
    seconds_until_auto_pause = null
  }

  expect_failures = [var.max_capacity]
}

run "rejects_single_subnet" {
  command = plan

  variables {
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa"]
  }

  expect_failures = [var.subnet_ids]
}

run "rejects_world_open_egress" {
  command = plan

  variables {
    egress_cidr_blocks = ["0.0.0.0/0"]
  }

  expect_failures = [var.egress_cidr_blocks]
}
