# Aurora PostgreSQL Serverless v2 that scales to zero.
#
# Serverless v2 only: the v1 arguments (engine_mode = "serverless", scaling_configuration,
# auto_pause) are never used. Scale to zero is min_capacity = 0 plus seconds_until_auto_pause
# inside serverlessv2_scaling_configuration (AWS provider 5.81+). See
# docs/architecture/aurora-serverless-design.md for the reasoning behind each setting.

locals {
  engine_major     = tonumber(split(".", var.engine_version)[0])
  parameter_family = "aurora-postgresql${local.engine_major}"

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

  kms_key_description             = "${var.name}: Aurora storage, master user secret, Performance Insights and logs"
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  # false (default): AWS-managed keys (aws/rds, aws/secretsmanager), no monthly charge; every
  # kms_key_id below is then null. true: one customer-managed key, rotated yearly.
  customer_managed_key             = var.customer_managed_key
  kms_logs_statement_sid           = "AllowCloudWatchLogsForThisClusterLogGroup"
  log_group_name_prefix            = "/aws/rds/cluster/${var.name}/"
  kms_extra_log_group_prefixes     = var.kms_extra_log_group_prefixes
  kms_publisher_service_principals = var.kms_publisher_service_principals
  security_group_description       = "Aurora PostgreSQL ${var.name}: port ${var.port} from the application security groups only"
}

################################################################################
# Parameters: TLS required, useful logs, no session that keeps a paused DB awake
################################################################################

resource "aws_rds_cluster_parameter_group" "this" {
  # A prefix, not a fixed name: create_before_destroy makes the replacement (a new family after
  # a major upgrade) before the old group is gone, and two groups cannot share a name.
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
# Logs: created here (retention; the key if customer-managed) before RDS creates it without
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
  # Automated backups outlive a deleted production cluster (point-in-time recovery after a
  # mistaken destroy); a disposable environment takes them with it.
  delete_automated_backups = !var.is_production

  apply_immediately = var.apply_immediately

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.postgresql]

  # The cross-input rules (pause delay only with a zero minimum, max >= min, an engine that can
  # pause) are variable validations, so a failing run names the variable at fault.
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

  # Instances have their own weekly window (AWS picks a random one otherwise); the cluster's
  # keeps instance maintenance inside the same, backup-free slot.
  preferred_maintenance_window = var.preferred_maintenance_window

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

################################################################################
# Master password rotation (the secret is RDS-managed; rotation needs no Lambda)
################################################################################

resource "aws_secretsmanager_secret_rotation" "master" {
  #checkov:skip=CKV_AWS_304:The period is master_password_rotation_days, validated to 1-90 days (default 30); checkov cannot resolve the variable through the environments' module calls.
  count = var.master_password_rotation_days == null ? 0 : 1

  secret_id = aws_rds_cluster.this.master_user_secret[0].secret_arn

  rotation_rules {
    automatically_after_days = var.master_password_rotation_days
  }
}
