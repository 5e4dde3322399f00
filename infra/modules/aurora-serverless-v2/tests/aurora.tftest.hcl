# Unit tests for the Aurora Serverless v2 module. Offline: the AWS provider is mocked with the
# database tests' shared mock data (infra/testing/aws-db): data sources return fixed, valid
# values, and the KMS key gets a known ARN so that "encrypted with the module's own key" can be
# asserted by equality. The key, subnet group, security group and monitoring role live in
# module.foundation (modules/db-foundation) and are asserted through its outputs.

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
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].min_capacity == 0
    error_message = "Default min_capacity must be 0 (scale to zero)."
  }

  assert {
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].seconds_until_auto_pause == 300
    error_message = "Default seconds_until_auto_pause must be 300."
  }

  assert {
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].max_capacity == 2
    error_message = "Default max_capacity must be 2."
  }

  assert {
    condition     = aws_rds_cluster.this.engine == "aurora-postgresql" && aws_rds_cluster.this.engine_mode == "provisioned"
    error_message = "Serverless v2 is aurora-postgresql in provisioned engine mode (engine_mode = serverless is v1)."
  }

  assert {
    condition     = length(aws_rds_cluster.this.scaling_configuration) == 0
    error_message = "The Serverless v1 scaling_configuration block must never be used."
  }

  assert {
    condition     = startswith(aws_rds_cluster.this.engine_version, "16.")
    error_message = "Default engine must be Aurora PostgreSQL 16.x."
  }

  assert {
    condition     = length(aws_rds_cluster_instance.this) == 1 && aws_rds_cluster_instance.this[0].instance_class == "db.serverless"
    error_message = "Default is a single db.serverless writer."
  }

  assert {
    condition     = aws_rds_cluster_instance.this[0].publicly_accessible == false
    error_message = "Instances must not be publicly accessible."
  }

  assert {
    condition     = output.scales_to_zero == true
    error_message = "scales_to_zero output must be true with the defaults."
  }
}

run "encryption_uses_module_kms_key" {
  command = apply

  assert {
    condition     = aws_rds_cluster.this.storage_encrypted == true
    error_message = "Storage must be encrypted."
  }

  assert {
    condition     = aws_rds_cluster.this.kms_key_id == module.foundation.kms_key_arn
    error_message = "Storage must be encrypted with the module's customer-managed KMS key."
  }

  assert {
    condition     = aws_rds_cluster.this.master_user_secret_kms_key_id == module.foundation.kms_key_id
    error_message = "The master user secret must be encrypted with the module's KMS key."
  }

  assert {
    condition     = aws_rds_cluster.this.performance_insights_kms_key_id == module.foundation.kms_key_arn && alltrue([for i in aws_rds_cluster_instance.this : i.performance_insights_kms_key_id == module.foundation.kms_key_arn && i.performance_insights_enabled])
    error_message = "Performance Insights must be on and use the module's KMS key."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.kms_key_id == module.foundation.kms_key_arn
    error_message = "The postgresql log group must be encrypted with the module's KMS key."
  }

  assert {
    condition     = module.foundation.kms_key_rotation_enabled == true
    error_message = "KMS key rotation must be on."
  }

  assert {
    condition     = output.kms_key_arn == module.foundation.kms_key_arn
    error_message = "kms_key_arn output must be the module's key."
  }

  assert {
    condition     = strcontains(module.foundation.kms_key_policy, "arn:aws:iam::123456789012:root") && strcontains(module.foundation.kms_key_policy, "logs.us-east-1.amazonaws.com")
    error_message = "The key policy must delegate to the account and admit CloudWatch Logs."
  }
}

run "credentials_and_auth" {
  command = plan

  assert {
    condition     = aws_rds_cluster.this.manage_master_user_password == true && aws_rds_cluster.this.master_password == null
    error_message = "The master password must be managed by Secrets Manager, never set (or stored) by Terraform."
  }

  assert {
    condition     = aws_rds_cluster.this.iam_database_authentication_enabled == true
    error_message = "IAM database authentication must be on."
  }
}

run "network_admits_only_app_security_groups" {
  command = apply

  variables {
    app_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa", "sg-0cccccccccccccccc"]
  }

  assert {
    condition     = length(module.foundation.ingress_rules) == 2
    error_message = "One ingress rule per application security group."
  }

  assert {
    condition     = alltrue([for r in module.foundation.ingress_rules : r.cidr_ipv4 == null && r.cidr_ipv6 == null && contains(var.app_security_group_ids, r.referenced_security_group_id)])
    error_message = "Ingress must come only from the application security groups, never from a CIDR (no 0.0.0.0/0)."
  }

  assert {
    condition     = alltrue([for r in module.foundation.ingress_rules : r.from_port == 5432 && r.to_port == 5432 && r.ip_protocol == "tcp"])
    error_message = "Ingress must be TCP 5432 only."
  }

  assert {
    condition     = alltrue([for r in module.foundation.security_group_ingress : !contains(r.cidr_blocks, "0.0.0.0/0")])
    error_message = "The security group must have no ingress from 0.0.0.0/0."
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

run "backups_logs_and_monitoring" {
  command = apply

  assert {
    condition     = aws_rds_cluster.this.backup_retention_period == 7
    error_message = "Backups must be kept 7 days."
  }

  assert {
    condition     = aws_rds_cluster.this.preferred_backup_window == "03:00-04:00" && aws_rds_cluster.this.preferred_maintenance_window == "sun:04:30-sun:05:30"
    error_message = "Backup and maintenance windows must be set."
  }

  assert {
    condition     = aws_rds_cluster.this.copy_tags_to_snapshot == true
    error_message = "Tags must be copied to snapshots."
  }

  assert {
    condition     = aws_rds_cluster.this.enabled_cloudwatch_logs_exports == toset(["postgresql"])
    error_message = "The postgresql log must be exported to CloudWatch Logs."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.name == "/aws/rds/cluster/rms-test/postgresql" && aws_cloudwatch_log_group.postgresql.retention_in_days == 365
    error_message = "The log group must be the one RDS exports to, with a retention."
  }

  assert {
    condition     = alltrue([for i in aws_rds_cluster_instance.this : i.monitoring_interval == 60 && i.monitoring_role_arn == module.foundation.monitoring_role_arn])
    error_message = "Enhanced Monitoring must be on with the module's role."
  }

  assert {
    condition     = module.foundation.monitoring_policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    error_message = "The monitoring role must carry the AWS managed Enhanced Monitoring policy."
  }

  assert {
    condition     = alltrue([for i in aws_rds_cluster_instance.this : i.auto_minor_version_upgrade])
    error_message = "Minor version upgrades must be automatic."
  }
}

run "force_ssl_and_logging_parameters" {
  command = plan

  assert {
    condition     = one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "rds.force_ssl must be present and set to 1."
  }

  assert {
    condition     = one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "log_min_duration_statement"]) == "1000"
    error_message = "log_min_duration_statement must be set (1000 ms by default)."
  }

  assert {
    condition     = aws_rds_cluster_parameter_group.this.family == "aurora-postgresql16"
    error_message = "Parameter group family must follow the engine major version."
  }

  assert {
    condition     = aws_rds_cluster.this.db_cluster_parameter_group_name == aws_rds_cluster_parameter_group.this.name
    error_message = "The cluster must use the module's parameter group."
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
    condition     = aws_rds_cluster.this.deletion_protection == true
    error_message = "Production must have deletion protection."
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

run "readers_are_serverless_too" {
  command = plan

  variables {
    reader_count = 2
  }

  assert {
    condition     = length(aws_rds_cluster_instance.this) == 3 && alltrue([for i in aws_rds_cluster_instance.this : i.instance_class == "db.serverless"])
    error_message = "One writer and two db.serverless readers expected."
  }

  assert {
    condition     = aws_rds_cluster_instance.this[0].identifier == "rms-test-writer" && aws_rds_cluster_instance.this[2].identifier == "rms-test-reader-2"
    error_message = "Instance names must be stable."
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
    condition     = aws_rds_cluster.this.serverlessv2_scaling_configuration[0].min_capacity == 0.5 && output.seconds_until_auto_pause == null
    error_message = "min_capacity 0.5 with no auto-pause must plan, with no pause delay sent."
  }

  assert {
    condition     = output.scales_to_zero == false
    error_message = "scales_to_zero must be false with a non-zero minimum."
  }
}

run "rejects_nonzero_min_with_auto_pause" {
  command = plan

  variables {
    min_capacity             = 0.5
    seconds_until_auto_pause = 600
  }

  expect_failures = [aws_rds_cluster.this]
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

  expect_failures = [aws_rds_cluster.this]
}

run "rejects_max_below_min" {
  command = plan

  variables {
    min_capacity             = 4
    max_capacity             = 2
    seconds_until_auto_pause = null
  }

  expect_failures = [aws_rds_cluster.this]
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
