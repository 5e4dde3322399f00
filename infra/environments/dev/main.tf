# dev: Aurora Serverless v2 that scales to zero, one writer (single AZ), disposable
# (no deletion protection, no final snapshot), wired to an existing VPC.

locals {
  environment = "dev"
  name        = "rms-${local.environment}"
}

module "database" {
  #checkov:skip=CKV_AWS_139:dev is disposable by design (is_production = false) so `terraform destroy` works; production sets deletion protection (asserted by the module's prod_is_protected test and by the module default).
  source = "../../modules/aurora-serverless-v2"

  name          = local.name
  environment   = local.environment
  is_production = false

  vpc_id                 = var.vpc_id
  subnet_ids             = var.private_subnet_ids
  app_security_group_ids = var.app_security_group_ids

  min_capacity             = 0
  max_capacity             = var.max_capacity
  seconds_until_auto_pause = var.seconds_until_auto_pause
  reader_count             = 0

  # Changes to a dev database may happen at once.
  apply_immediately = true
}

module "app_config" {
  source = "../../modules/app-config"

  environment              = local.environment
  db_host                  = module.database.writer_endpoint
  db_port                  = module.database.port
  db_name                  = module.database.database_name
  db_user                  = module.database.master_username
  db_secret_arn            = module.database.master_user_secret_arn
  seconds_until_auto_pause = module.database.seconds_until_auto_pause
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                   = local.name
  environment            = local.environment
  database_type          = "aurora"
  db_identifier          = module.database.cluster_id
  aurora_max_capacity    = module.database.max_capacity
  alarm_email_addresses  = var.alarm_email_addresses
  monthly_budget_usd     = var.monthly_budget_usd
  budget_email_addresses = var.alarm_email_addresses
  budget_cost_filter_tag = var.budget_cost_filter_tag
}
