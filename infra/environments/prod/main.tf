# prod: RDS PostgreSQL Multi-AZ or Aurora Serverless v2 (selected by database_engine), with
# deletion protection and a final snapshot, wired to an existing VPC.

locals {
  environment = "prod"
  name        = "rms-${local.environment}"
  use_aurora  = var.database_engine == "aurora"

  db = local.use_aurora ? {
    host                     = module.aurora[0].writer_endpoint
    port                     = module.aurora[0].port
    name                     = module.aurora[0].database_name
    user                     = module.aurora[0].master_username
    secret_arn               = module.aurora[0].master_user_secret_arn
    identifier               = module.aurora[0].cluster_id
    security_group_id        = module.aurora[0].security_group_id
    kms_key_arn              = module.aurora[0].kms_key_arn
    seconds_until_auto_pause = module.aurora[0].seconds_until_auto_pause
    } : {
    host                     = module.rds[0].endpoint
    port                     = module.rds[0].port
    name                     = module.rds[0].database_name
    user                     = module.rds[0].master_username
    secret_arn               = module.rds[0].master_user_secret_arn
    identifier               = module.rds[0].instance_id
    security_group_id        = module.rds[0].security_group_id
    kms_key_arn              = module.rds[0].kms_key_arn
    seconds_until_auto_pause = null
  }
}

module "aurora" {
  source = "../../modules/aurora-serverless-v2"
  count  = local.use_aurora ? 1 : 0

  name          = local.name
  environment   = local.environment
  is_production = true

  vpc_id                 = var.vpc_id
  subnet_ids             = var.private_subnet_ids
  app_security_group_ids = var.app_security_group_ids

  min_capacity             = var.aurora_min_capacity
  max_capacity             = var.aurora_max_capacity
  seconds_until_auto_pause = var.aurora_min_capacity == 0 ? var.aurora_seconds_until_auto_pause : null
  reader_count             = var.aurora_reader_count
}

module "rds" {
  source = "../../modules/rds-postgres"
  count  = local.use_aurora ? 0 : 1

  name          = local.name
  environment   = local.environment
  is_production = true

  vpc_id                 = var.vpc_id
  subnet_ids             = var.private_subnet_ids
  app_security_group_ids = var.app_security_group_ids

  instance_class        = var.rds_instance_class
  multi_az              = var.rds_multi_az
  allocated_storage     = var.rds_allocated_storage
  max_allocated_storage = var.rds_max_allocated_storage
}

module "app_config" {
  source = "../../modules/app-config"

  environment              = local.environment
  db_host                  = local.db.host
  db_port                  = local.db.port
  db_name                  = local.db.name
  db_user                  = local.db.user
  db_secret_arn            = local.db.secret_arn
  seconds_until_auto_pause = local.db.seconds_until_auto_pause
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                   = local.name
  environment            = local.environment
  database_type          = var.database_engine
  db_identifier          = local.db.identifier
  aurora_max_capacity    = var.aurora_max_capacity
  alarm_email_addresses  = var.alarm_email_addresses
  monthly_budget_usd     = var.monthly_budget_usd
  budget_email_addresses = var.alarm_email_addresses
  budget_cost_filter_tag = var.budget_cost_filter_tag
}
