# Aurora PostgreSQL Serverless v2 that scales to zero.
#
# Serverless v2 only: the v1 arguments (engine_mode = "serverless", scaling_configuration,
# auto_pause) are never used. Scale to zero is min_capacity = 0 plus seconds_until_auto_pause
# inside serverlessv2_scaling_configuration (AWS provider 5.81+). See
# docs/architecture/aurora-serverless-design.md for the reasoning behind each setting.

locals {
  engine_major     = tonumber(split(".", var.engine_version)[0])
  engine_minor     = tonumber(split(".", var.engine_version)[1])
  parameter_family = "aurora-postgresql${local.engine_major}"

  # First minor version of each major that supports min_capacity = 0 (AWS documentation).
  scale_to_zero_min_minor = { 13 = 15, 14 = 12, 15 = 7, 16 = 3, 17 = 0 }
  engine_supports_zero    = local.engine_minor >= lookup(local.scale_to_zero_min_minor, local.engine_major, 0)

  scales_to_zero = var.min_capacity == 0
  # With min_capacity = 0 AWS would default the pause delay to 300 s; say so explicitly so the
  # plan shows what will happen. With min_capacity > 0 the instance never pauses: send null.
  auto_pause_seconds = local.scales_to_zero ? coalesce(var.seconds_until_auto_pause, 300) : null

  log_group_name = "/aws/rds/cluster/${var.name}/postgresql"

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "aurora-serverless-v2"
  })
}

################################################################################
# Foundation: customer-managed KMS key (+ alias), subnet group, security group open
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

  kms_key_description             = "${var.name}: Aurora storage, master user secret, Performance Insights and logs"
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  kms_logs_statement_sid          = "AllowCloudWatchLogsForThisClusterLogGroup"
  log_group_name_prefix           = "/aws/rds/cluster/${var.name}/"
  security_group_description      = "Aurora PostgreSQL ${var.name}: port ${var.port} from the application security groups only"
}

################################################################################
# Parameters: TLS required, useful logs, no session that keeps a paused DB awake
################################################################################

resource "aws_rds_cluster_parameter_group" "this" {
  name        = "${var.name}-${local.parameter_family}"
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
# Logs: created here (with retention and KMS) before RDS would create it without
################################################################################

resource "aws_cloudwatch_log_group" "postgresql" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = module.foundation.kms_key_arn
  tags              = local.tags
}

################################################################################
# Cluster
################################################################################

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV2_AWS_8:Point-in-time recovery comes from the cluster's own automated backups (backup_retention_period >= 7, validated); an AWS Backup plan would duplicate them and their cost for a single-user database.
  cluster_identifier = var.name
  engine             = "aurora-postgresql"
  engine_mode        = "provisioned" # Serverless v2 runs in provisioned mode with db.serverless instances
  engine_version     = var.engine_version
  database_name      = var.database_name
  port               = var.port

  master_username               = var.master_username
  manage_master_user_password   = true # password generated and kept in Secrets Manager, never in state
  master_user_secret_kms_key_id = module.foundation.kms_key_id

  iam_database_authentication_enabled = true

  db_subnet_group_name            = module.foundation.db_subnet_group_name
  vpc_security_group_ids          = [module.foundation.security_group_id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name

  storage_encrypted = true
  kms_key_id        = module.foundation.kms_key_arn

  serverlessv2_scaling_configuration {
    min_capacity             = var.min_capacity
    max_capacity             = var.max_capacity
    seconds_until_auto_pause = local.auto_pause_seconds
  }

  backup_retention_period      = var.backup_retention_period
  preferred_backup_window      = var.preferred_backup_window
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true

  enabled_cloudwatch_logs_exports = ["postgresql"]

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.foundation.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_period

  enable_http_endpoint = var.enable_http_endpoint

  deletion_protection       = var.is_production
  skip_final_snapshot       = !var.is_production
  final_snapshot_identifier = var.is_production ? "${var.name}-final" : null

  apply_immediately = var.apply_immediately

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.postgresql]

  lifecycle {
    precondition {
      condition     = !(var.min_capacity > 0 && var.seconds_until_auto_pause != null)
      error_message = "seconds_until_auto_pause is set (${coalesce(var.seconds_until_auto_pause, 0)}) but min_capacity is ${var.min_capacity}: an Aurora Serverless v2 instance only pauses when min_capacity = 0, and any minimum of 0.5 ACU or more never pauses. Either set min_capacity = 0 to scale to zero, or set seconds_until_auto_pause = null to run without auto-pause."
    }

    precondition {
      condition     = var.max_capacity >= var.min_capacity
      error_message = "max_capacity (${var.max_capacity}) must be greater than or equal to min_capacity (${var.min_capacity})."
    }

    precondition {
      condition     = !local.scales_to_zero || local.engine_supports_zero
      error_message = "engine_version ${var.engine_version} cannot scale to zero: min_capacity = 0 needs Aurora PostgreSQL 16.3+, 15.7+, 14.12+ or 13.15+."
    }
  }
}

################################################################################
# Instances: one writer and optional readers, all db.serverless
################################################################################

resource "aws_rds_cluster_instance" "this" {
  count = 1 + var.reader_count

  identifier         = count.index == 0 ? "${var.name}-writer" : "${var.name}-reader-${count.index}"
  cluster_identifier = aws_rds_cluster.this.id
  instance_class     = "db.serverless"
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version

  # The writer is the first instance created; readers fail over to it in tier order.
  promotion_tier = count.index == 0 ? 0 : var.reader_promotion_tier

  db_subnet_group_name = module.foundation.db_subnet_group_name
  publicly_accessible  = false
  ca_cert_identifier   = var.ca_cert_identifier

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = module.foundation.monitoring_role_arn

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.foundation.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_period

  auto_minor_version_upgrade = true
  copy_tags_to_snapshot      = true
  apply_immediately          = var.apply_immediately

  tags = merge(local.tags, { Role = count.index == 0 ? "writer" : "reader" })

  # No depends_on for the monitoring role: module.foundation.monitoring_role_arn is only
  # known once the Enhanced Monitoring policy is attached to the role.
}
