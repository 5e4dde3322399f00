# RDS for PostgreSQL instance with the same standards as the Aurora module: encryption at rest
# (AWS-managed keys by default, a customer-managed KMS key with customer_managed_key = true),
# TLS required, IAM auth, Secrets Manager-managed master password, 7-day backups, exported logs
# with retention, Performance Insights, Enhanced Monitoring, and deletion
# protection plus a final snapshot in production.

locals {
  engine_major     = split(".", var.engine_version)[0]
  parameter_family = "postgres${local.engine_major}"

  log_exports = ["postgresql", "upgrade"]

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "rds-postgres"
  })
}

################################################################################
# Foundation: the optional customer-managed KMS key, subnet group, security group open
# only to the application security groups, Enhanced Monitoring role (modules/db-foundation)
################################################################################

module "foundation" {
  source = "../db-foundation"

  name        = var.name
  environment = var.environment
  tags        = local.tags

  vpc_id                 = var.vpc_id
  subnet_ids             = var.subnet_ids
  app_security_group_ids = var.app_security_group_ids
  egress_cidr_blocks     = var.egress_cidr_blocks
  port                   = var.port

  kms_key_description             = "${var.name}: RDS storage, master user secret, Performance Insights and logs"
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  # false (default): AWS-managed keys (aws/rds, aws/secretsmanager), no monthly charge; every
  # kms_key_id below is then null. true: one customer-managed key, rotated yearly.
  customer_managed_key             = var.customer_managed_key
  kms_logs_statement_sid           = "AllowCloudWatchLogsForThisInstanceLogGroups"
  log_group_name_prefix            = "/aws/rds/instance/${var.name}/"
  kms_extra_log_group_prefixes     = var.kms_extra_log_group_prefixes
  kms_publisher_service_principals = var.kms_publisher_service_principals
  security_group_description       = "RDS PostgreSQL ${var.name}: port ${var.port} from the application security groups only"
}

################################################################################
# Parameters
################################################################################

resource "aws_db_parameter_group" "this" {
  # A prefix, not a fixed name: create_before_destroy creates the replacement first.
  name_prefix = "${var.name}-${local.parameter_family}-"
  family      = local.parameter_family
  description = "${var.name}: TLS required, slow-query and connection logging, idle timeouts"

  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  parameter {
    name  = "log_temp_files"
    value = "0"
  }

  parameter {
    name  = "idle_session_timeout"
    value = tostring(var.idle_session_timeout_ms)
  }

  parameter {
    name  = "idle_in_transaction_session_timeout"
    value = tostring(var.idle_in_transaction_session_timeout_ms)
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(local.log_exports)

  name              = "/aws/rds/instance/${var.name}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.foundation.kms_key_arn
  tags              = local.tags
}

################################################################################
# Instance
################################################################################

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  multi_az       = var.multi_az
  db_name        = var.database_name
  port           = var.port

  username                      = var.master_username
  manage_master_user_password   = true # generated and kept in Secrets Manager, never in state
  master_user_secret_kms_key_id = module.foundation.kms_key_id

  iam_database_authentication_enabled = true

  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_encrypted     = true
  kms_key_id            = module.foundation.kms_key_arn

  db_subnet_group_name   = module.foundation.db_subnet_group_name
  vpc_security_group_ids = [module.foundation.security_group_id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  ca_cert_identifier     = var.ca_cert_identifier

  backup_retention_period  = var.backup_retention_period
  backup_window            = var.preferred_backup_window
  maintenance_window       = var.preferred_maintenance_window
  copy_tags_to_snapshot    = true
  delete_automated_backups = !var.is_production

  enabled_cloudwatch_logs_exports = local.log_exports

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.foundation.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_period

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = module.foundation.monitoring_role_arn

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = var.apply_immediately

  deletion_protection       = var.is_production
  skip_final_snapshot       = !var.is_production
  final_snapshot_identifier = var.is_production ? "${var.name}-final" : null

  tags = local.tags

  # The monitoring role needs no depends_on: module.foundation.monitoring_role_arn is only
  # known once the Enhanced Monitoring policy is attached to the role.
  depends_on = [aws_cloudwatch_log_group.this]
}

################################################################################
# Master password rotation (RDS-managed secret; managed rotation needs no Lambda)
################################################################################

resource "aws_secretsmanager_secret_rotation" "master" {
  #checkov:skip=CKV_AWS_304:The period is master_password_rotation_days, validated to 1-90 days (default 30); checkov cannot resolve the variable through the environments' module calls.
  count = var.master_password_rotation_days == null ? 0 : 1

  secret_id = aws_db_instance.this.master_user_secret[0].secret_arn

  rotation_rules {
    automatically_after_days = var.master_password_rotation_days
  }
}
