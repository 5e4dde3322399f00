# dev: the whole RMS stack, idle for almost nothing (docs/architecture/aws-stack.md):
#   network     VPC, two dual-stack private subnets, an egress-only gateway (IPv6 out), no NAT
#   database    Aurora Serverless v2 that scales to zero, one writer, disposable
#   service     the RMS service on Lambda (arm64, Python 3.11) behind an HTTP API
#   sign_in     Cognito: the owner's user pool (TOTP MFA), hosted UI, the browser's app client
#   app_config  the same settings in SSM for operators and other runners
#   monitoring  alarms (database, service metrics, function), recoveries, dashboard, budget
# Keys: the AWS-managed ones by default (aws/rds, aws/secretsmanager, aws/lambda; the log groups
# and the alarm topic without a customer key), no monthly charge. customer_managed_key = true:
# one customer-managed KMS key (the database's) serves the logs and the alarm topic too.

locals {
  environment = "dev"
  name        = "rms-${local.environment}"

  package_path   = coalesce(var.service_package_path, "${path.module}/../../../dist/rms-lambda.zip")
  package_sha256 = coalesce(var.service_package_sha256, try(filebase64sha256(local.package_path), "missing: run make package or set service_package_sha256"))

  # The service's configuration, in the function's environment (a VPC function without NAT
  # cannot read SSM without a paid endpoint) and mirrored in SSM by app_config.
  service_settings = {
    ENVIRONMENT                  = local.environment
    RMS_STATE_DIR                = "/tmp/rms"
    DB_HOST                      = module.database.writer_endpoint
    DB_PORT                      = tostring(module.database.port)
    DB_NAME                      = module.database.database_name
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

module "database" {
  #checkov:skip=CKV_AWS_139:dev is disposable by design (is_production = false) so `terraform destroy` works; production sets deletion protection (asserted by the module's prod_is_protected test and by the module default).
  source = "../../modules/aurora-serverless-v2"

  name          = local.name
  environment   = local.environment
  is_production = false

  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  app_security_group_ids = concat([module.network.app_security_group_id], var.extra_app_security_group_ids)

  min_capacity             = 0
  max_capacity             = var.max_capacity
  seconds_until_auto_pause = var.seconds_until_auto_pause
  reader_count             = 0

  master_password_rotation_days = var.master_password_rotation_days

  # With customer_managed_key = true, the one KMS key of the stack: also the function's and the
  # API's logs and the alarm topic (the policy statements below are unused without it).
  customer_managed_key             = var.customer_managed_key
  kms_extra_log_group_prefixes     = ["/aws/lambda/${local.name}-", "/aws/apigateway/${local.name}-"]
  kms_publisher_service_principals = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"]

  # Changes to a dev database may happen at once.
  apply_immediately = true
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
  db_security_group_id  = module.database.security_group_id
  db_port               = module.database.port
  db_resource_id        = module.database.cluster_resource_id
  db_user               = var.app_db_user

  environment_variables = local.service_settings
  kms_key_arn           = module.database.kms_key_arn
}

module "sign_in" {
  source = "../../modules/cognito"

  name          = local.name
  environment   = local.environment
  is_production = false
  service_url   = module.service.service_url
  owner_email   = var.owner_email
}

module "app_config" {
  source = "../../modules/app-config"

  environment               = local.environment
  db_host                   = module.database.writer_endpoint
  db_port                   = module.database.port
  db_name                   = module.database.database_name
  db_user                   = module.database.master_username
  db_secret_arn             = module.database.master_user_secret_arn
  seconds_until_auto_pause  = module.database.seconds_until_auto_pause
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
  database_type          = "aurora"
  db_identifier          = module.database.cluster_id
  aurora_max_capacity    = module.database.max_capacity
  aurora_expect_pause    = module.database.scales_to_zero
  kms_key_arn            = module.database.kms_key_arn # null with AWS-managed keys: no key
  lambda_function_name   = module.service.function_name
  lambda_timeout_seconds = module.service.timeout_seconds
  alarm_email_addresses  = var.alarm_email_addresses
  create_budget          = var.create_budget
  monthly_budget_usd     = var.monthly_budget_usd
  budget_email_addresses = var.alarm_email_addresses
  budget_cost_filter_tag = var.budget_cost_filter_tag
}
