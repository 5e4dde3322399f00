# Unit tests for the RDS PostgreSQL module. Offline: the AWS provider is mocked with the shared
# mock data (infra/testing/aws-db). As in aurora.tftest.hcl, settings that are literals in
# main.tf are left to checkov (CKV_AWS_16 encryption, CKV_AWS_161 IAM auth, CKV_AWS_17 not
# public, CKV_AWS_118 monitoring, ...); these tests assert what follows from the inputs, and
# each rejected input breaks exactly one rule on its own variable.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name                   = "rms-rds-test"
  environment            = "test"
  vpc_id                 = "vpc-0123456789abcdef0"
  subnet_ids             = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa"]
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_db_instance.this.instance_class == "db.t4g.micro" && aws_db_instance.this.multi_az == true
    error_message = "Default is db.t4g.micro, Multi-AZ."
  }

  assert {
    condition     = aws_db_instance.this.allocated_storage == 20 && aws_db_instance.this.max_allocated_storage == 100
    error_message = "20 GiB with autoscaling to 100 GiB by default."
  }

  assert {
    condition     = aws_db_instance.this.engine_version == "16" && aws_db_parameter_group.this.family == "postgres16"
    error_message = "The default engine is the major 16 (no minor to drift from), with the postgres16 family."
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
    condition     = length(aws_cloudwatch_log_group.this) == 2 && alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == null && g.retention_in_days == 365])
    error_message = "With AWS-managed keys both exported log groups keep their retention and take no customer key."
  }
}

run "encryption_uses_module_kms_key" {
  command = apply

  variables {
    customer_managed_key = true
  }

  assert {
    condition     = aws_db_instance.this.kms_key_id == module.foundation.kms_key_arn && aws_db_instance.this.master_user_secret_kms_key_id == module.foundation.kms_key_id && aws_db_instance.this.performance_insights_kms_key_id == module.foundation.kms_key_arn
    error_message = "Storage, the master secret and Performance Insights must use the module's KMS key."
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 2 && alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == module.foundation.kms_key_arn && g.retention_in_days == 365])
    error_message = "Both exported log groups must be KMS-encrypted with the default retention."
  }

  assert {
    condition     = aws_db_instance.this.monitoring_role_arn == module.foundation.monitoring_role_arn
    error_message = "Enhanced Monitoring must use the module's role."
  }
}

run "network_admits_only_app_security_groups" {
  command = apply

  assert {
    # length first: an empty set would make the loop below true whatever it says.
    condition     = length(module.foundation.ingress_rules) == 1 && alltrue([for r in module.foundation.ingress_rules : r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.referenced_security_group_id == "sg-0aaaaaaaaaaaaaaaa" && r.from_port == 5432 && r.to_port == 5432])
    error_message = "Exactly one ingress rule: 5432 from the application security group, never from a CIDR."
  }

  assert {
    condition     = length(module.foundation.egress_rules) == 0 && aws_db_instance.this.vpc_security_group_ids == toset([module.foundation.security_group_id])
    error_message = "No egress by default; the instance uses only the module's security group."
  }
}

run "backups_and_parameters" {
  command = plan

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 7 && aws_db_instance.this.backup_window == "03:00-04:00" && aws_db_instance.this.maintenance_window == "sun:04:30-sun:05:30"
    error_message = "7-day backups with backup and maintenance windows."
  }

  assert {
    condition     = aws_db_instance.this.parameter_group_name == aws_db_parameter_group.this.name && aws_db_parameter_group.this.name_prefix == "rms-rds-test-postgres16-"
    error_message = "The instance must use the module's parameter group, named by prefix (create_before_destroy needs a free name for the replacement)."
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "idle_session_timeout"]) == "900000"
    error_message = "idle_session_timeout comes from its variable (15 min)."
  }
}

run "prod_is_protected_by_default" {
  command = plan

  assert {
    condition     = aws_db_instance.this.deletion_protection == true && output.deletion_protection == true && aws_db_instance.this.skip_final_snapshot == false && aws_db_instance.this.final_snapshot_identifier == "rms-rds-test-final"
    error_message = "By default (is_production = true): deletion protection and a stably named final snapshot."
  }

  assert {
    condition     = aws_db_instance.this.delete_automated_backups == false && output.delete_automated_backups == false
    error_message = "Production keeps its automated backups after a delete."
  }
}

run "dev_is_disposable" {
  command = plan

  variables {
    environment   = "dev"
    is_production = false
    multi_az      = false
  }

  assert {
    condition     = aws_db_instance.this.deletion_protection == false && aws_db_instance.this.skip_final_snapshot == true && aws_db_instance.this.multi_az == false && aws_db_instance.this.delete_automated_backups == true
    error_message = "A dev instance can be Single-AZ and disposable, backups included."
  }
}

run "master_password_rotation_is_configurable" {
  command = apply

  variables {
    master_password_rotation_days = 7
  }

  assert {
    condition     = aws_secretsmanager_secret_rotation.master[0].rotation_rules[0].automatically_after_days == 7 && aws_secretsmanager_secret_rotation.master[0].secret_id == aws_db_instance.this.master_user_secret[0].secret_arn
    error_message = "The master secret must rotate every master_password_rotation_days days."
  }
}

run "rejects_empty_app_security_groups" {
  command = plan

  variables {
    app_security_group_ids = []
  }

  expect_failures = [var.app_security_group_ids]
}

run "rejects_short_backup_retention" {
  command = plan

  variables {
    backup_retention_period = 1
  }

  expect_failures = [var.backup_retention_period]
}

run "rejects_storage_autoscaling_ceiling_below_size" {
  command = plan

  variables {
    allocated_storage     = 100
    max_allocated_storage = 50
  }

  expect_failures = [var.max_allocated_storage]
}

run "rejects_serverless_class" {
  command = plan

  variables {
    instance_class = "db.serverless"
  }

  expect_failures = [var.instance_class]
}

run "rejects_postgresql_13" {
  command = plan

  variables {
    engine_version = "13.15"
  }

  expect_failures = [var.engine_version]
}
