# Unit tests for the RDS PostgreSQL module. Offline: the AWS provider is mocked with the
# database tests' shared mock data (infra/testing/aws-db): data sources return fixed, valid
# values, and the KMS key gets a known ARN so that "encrypted with the module's own key" can be
# asserted by equality. The key, subnet group, security group and monitoring role live in
# module.foundation (modules/db-foundation) and are asserted through its outputs.

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
    condition     = aws_db_instance.this.engine == "postgres" && aws_db_instance.this.instance_class == "db.t4g.micro"
    error_message = "Default is RDS PostgreSQL on db.t4g.micro."
  }

  assert {
    condition     = aws_db_instance.this.multi_az == true
    error_message = "Multi-AZ is on by default."
  }

  assert {
    condition     = aws_db_instance.this.storage_type == "gp3" && aws_db_instance.this.allocated_storage == 20 && aws_db_instance.this.max_allocated_storage == 100
    error_message = "gp3 storage with autoscaling (20 -> 100 GiB) by default."
  }

  assert {
    condition     = aws_db_instance.this.publicly_accessible == false
    error_message = "The instance must not be publicly accessible."
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password == true && aws_db_instance.this.password == null
    error_message = "The master password must be managed by Secrets Manager, never in state."
  }

  assert {
    condition     = aws_db_instance.this.iam_database_authentication_enabled == true
    error_message = "IAM database authentication must be on."
  }
}

run "encryption_uses_module_kms_key" {
  command = apply

  assert {
    condition     = aws_db_instance.this.storage_encrypted == true && aws_db_instance.this.kms_key_id == module.foundation.kms_key_arn
    error_message = "Storage must be encrypted with the module's KMS key."
  }

  assert {
    condition     = aws_db_instance.this.master_user_secret_kms_key_id == module.foundation.kms_key_id
    error_message = "The master user secret must use the module's KMS key."
  }

  assert {
    condition     = aws_db_instance.this.performance_insights_enabled == true && aws_db_instance.this.performance_insights_kms_key_id == module.foundation.kms_key_arn
    error_message = "Performance Insights must be on with the module's KMS key."
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == module.foundation.kms_key_arn && g.retention_in_days == 365])
    error_message = "Exported log groups must be KMS-encrypted with a retention."
  }

  assert {
    condition     = module.foundation.kms_key_rotation_enabled == true
    error_message = "KMS key rotation must be on."
  }

  assert {
    condition     = aws_db_instance.this.monitoring_interval == 60 && aws_db_instance.this.monitoring_role_arn == module.foundation.monitoring_role_arn
    error_message = "Enhanced Monitoring must be on with the module's role."
  }
}

run "network_admits_only_app_security_groups" {
  command = apply

  assert {
    condition     = alltrue([for r in module.foundation.ingress_rules : r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.referenced_security_group_id == "sg-0aaaaaaaaaaaaaaaa" && r.from_port == 5432 && r.to_port == 5432])
    error_message = "Ingress must be 5432 from the application security group only (no 0.0.0.0/0)."
  }

  assert {
    condition     = alltrue([for r in module.foundation.security_group_ingress : !contains(r.cidr_blocks, "0.0.0.0/0")])
    error_message = "The security group must have no ingress from 0.0.0.0/0."
  }

  assert {
    condition     = length(module.foundation.egress_rules) == 0
    error_message = "No egress by default."
  }
}

run "backups_logs_and_parameters" {
  command = plan

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 7 && aws_db_instance.this.backup_window == "03:00-04:00" && aws_db_instance.this.maintenance_window == "sun:04:30-sun:05:30"
    error_message = "7-day backups with backup and maintenance windows."
  }

  assert {
    condition     = aws_db_instance.this.copy_tags_to_snapshot == true
    error_message = "Tags must be copied to snapshots."
  }

  assert {
    condition     = contains(tolist(aws_db_instance.this.enabled_cloudwatch_logs_exports), "postgresql")
    error_message = "The postgresql log must be exported."
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "rds.force_ssl must be present and set to 1."
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "postgres16" && aws_db_instance.this.parameter_group_name == aws_db_parameter_group.this.name
    error_message = "The instance must use the module's postgres16 parameter group."
  }

  assert {
    condition     = aws_db_instance.this.auto_minor_version_upgrade == true
    error_message = "Minor version upgrades must be automatic."
  }
}

run "prod_is_protected_by_default" {
  command = plan

  assert {
    condition     = aws_db_instance.this.deletion_protection == true && aws_db_instance.this.skip_final_snapshot == false && aws_db_instance.this.final_snapshot_identifier == "rms-rds-test-final"
    error_message = "By default (is_production = true): deletion protection and a stably named final snapshot."
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
    condition     = aws_db_instance.this.deletion_protection == false && aws_db_instance.this.skip_final_snapshot == true && aws_db_instance.this.multi_az == false
    error_message = "A dev instance can be Single-AZ and disposable."
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

  expect_failures = [aws_db_instance.this]
}

run "rejects_serverless_class" {
  command = plan

  variables {
    instance_class = "db.serverless"
  }

  expect_failures = [var.instance_class]
}
