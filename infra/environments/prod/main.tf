# prod: the whole RMS stack with production safety (docs/architecture/aws-stack.md): the same
# network, service and sign-in as dev, the database selected by database_engine (RDS
# PostgreSQL, Multi-AZ by default, or Aurora Serverless v2), deletion protection on the
# database and the user pool, a final snapshot, automated backups kept after a delete. Keys as in
# dev: AWS-managed by default, one customer-managed key for everything with customer_managed_key.

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
    resource_id              = module.aurora[0].cluster_resource_id
    security_group_id        = module.aurora[0].security_group_id
    kms_key_arn              = module.aurora[0].kms_key_arn
    seconds_until_auto_pause = module.aurora[0].seconds_until_auto_pause
    scales_to_zero           = module.aurora[0].scales_to_zero
    deletion_protection      = module.aurora[0].deletion_protection
    delete_automated_backups = module.aurora[0].delete_automated_backups
    } : {
    host                     = module.rds[0].endpoint
    port                     = module.rds[0].port
    name                     = module.rds[0].database_name
    user                     = module.rds[0].master_username
    secret_arn               = module.rds[0].master_user_secret_arn
    identifier               = module.rds[0].instance_id
    resource_id              = module.rds[0].instance_resource_id
    security_group_id        = module.rds[0].security_group_id
    kms_key_arn              = module.rds[0].kms_key_arn
    seconds_until_auto_pause = null
    scales_to_zero           = false
    deletion_protection      = module.rds[0].deletion_protection
    delete_automated_backups = module.rds[0].delete_automated_backups
  }

  app_security_group_ids = concat([module.network.app_security_group_id], var.extra_app_security_group_ids)
  kms_log_prefixes       = ["/aws/lambda/${local.name}-", "/aws/apigateway/${local.name}-"]
  kms_publishers         = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"]

  package_path   = coalesce(var.service_package_path, "${path.module}/../../../dist/rms-lambda.zip")
  package_sha256 = coalesce(var.service_package_sha256, try(filebase64sha256(local.package_path), "missing: run make package or set service_package_sha256"))

  service_settings = {
    ENVIRONMENT                  = local.environment
    RMS_STATE_DIR                = "/tmp/rms"
    DB_HOST                      = local.db.host
    DB_PORT                      = tostring(local.db.port)
    DB_NAME                      = local.db.name
    DB_USER                      = var.app_db_user
    DB_IAM_AUTH                  = "true"
    DB_SSLMODE                   = "verify-full"
    DB_SSLROOTCERT               = var.db_sslrootcert
    DB_IDLE_RELEASE_SECONDS      = tostring(var.idle_release_seconds)
    DB_COLD_START_BUDGET_SECONDS = tostring(var.cold_start_budget_seconds)
    METRICS_EMF_ENABLED          = "true"
    AUTH_OIDC_ISSUER             = module.sign_in.issuer
    AUTH_OIDC_AUDIENCE           = module.sign_in.client_id
    RMS_PUBLIC_URL               = module.service.service_url
    RMS_ALLOWED_HOSTS            = module.service.service_host
  }
}

module "network" {
  source = "../../modules/network"

  name        = local.name
  environment = local.environment
  cidr_block  = var.vpc_cidr_block
  subnet_ipv6 = var.dual_stack
}

module "aurora" {
  source = "../../modules/aurora-serverless-v2"
  count  = local.use_aurora ? 1 : 0

  name          = local.name
  environment   = local.environment
  is_production = true

  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  app_security_group_ids = local.app_security_group_ids

  min_capacity             = var.aurora_min_capacity
  max_capacity             = var.aurora_max_capacity
  seconds_until_auto_pause = var.aurora_min_capacity == 0 ? var.aurora_seconds_until_auto_pause : null
  reader_count             = var.aurora_reader_count

  master_password_rotation_days    = var.master_password_rotation_days
  customer_managed_key             = var.customer_managed_key
  kms_extra_log_group_prefixes     = local.kms_log_prefixes
  kms_publisher_service_principals = local.kms_publishers
}

module "rds" {
  source = "../../modules/rds-postgres"
  count  = local.use_aurora ? 0 : 1

  name          = local.name
  environment   = local.environment
  is_production = true

  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  app_security_group_ids = local.app_security_group_ids

  instance_class        = var.rds_instance_class
  multi_az              = var.rds_multi_az
  allocated_storage     = var.rds_allocated_storage
  max_allocated_storage = var.rds_max_allocated_storage

  master_password_rotation_days    = var.master_password_rotation_days
  customer_managed_key             = var.customer_managed_key
  kms_extra_log_group_prefixes     = local.kms_log_prefixes
  kms_publisher_service_principals = local.kms_publishers
}

module "service" {
  source = "../../modules/service"

  name        = local.name
  environment = local.environment

  package_path   = local.package_path
  package_sha256 = local.package_sha256
  handler        = var.service_handler
  architecture   = var.service_architecture
  runtime        = var.service_runtime
  snapstart      = var.service_snapstart

  reserved_concurrency = var.service_reserved_concurrency
  ipv6_egress          = module.network.dual_stack

  subnet_ids            = module.network.private_subnet_ids
  app_security_group_id = module.network.app_security_group_id
  db_security_group_id  = local.db.security_group_id
  db_port               = local.db.port
  db_resource_id        = local.db.resource_id
  db_user               = var.app_db_user

  environment_variables = local.service_settings
  kms_key_arn           = local.db.kms_key_arn
}

module "sign_in" {
  source = "../../modules/cognito"

  name          = local.name
  environment   = local.environment
  is_production = true
  service_url   = module.service.service_url
  owner_email   = var.owner_email
}

module "app_config" {
  source = "../../modules/app-config"

  environment               = local.environment
  db_host                   = local.db.host
  db_port                   = local.db.port
  db_name                   = local.db.name
  db_user                   = local.db.user
  db_secret_arn             = local.db.secret_arn
  seconds_until_auto_pause  = local.db.seconds_until_auto_pause
  idle_release_seconds      = var.idle_release_seconds
  cold_start_budget_seconds = var.cold_start_budget_seconds
  extra_parameters = {
    AUTH_OIDC_ISSUER   = module.sign_in.issuer
    AUTH_OIDC_AUDIENCE = module.sign_in.client_id
    RMS_PUBLIC_URL     = module.service.service_url
  }
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                   = local.name
  environment            = local.environment
  database_type          = var.database_engine
  db_identifier          = local.db.identifier
  aurora_max_capacity    = var.aurora_max_capacity
  aurora_expect_pause    = local.db.scales_to_zero
  kms_key_arn            = local.db.kms_key_arn # null with AWS-managed keys: no key
  lambda_function_name   = module.service.function_name
  lambda_timeout_seconds = module.service.timeout_seconds
  alarm_email_addresses  = var.alarm_email_addresses
  monthly_budget_usd     = var.monthly_budget_usd
  budget_email_addresses = var.alarm_email_addresses
  budget_cost_filter_tag = var.budget_cost_filter_tag
}
