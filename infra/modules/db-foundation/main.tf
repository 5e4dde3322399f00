# What every RMS PostgreSQL database needs around it, whatever the engine: an optional
# customer-managed KMS key (+ alias; AWS-managed keys by default), a DB subnet group, a security group open on the database port to the
# application security groups only, and the Enhanced Monitoring role. Used by
# modules/aurora-serverless-v2 and modules/rds-postgres; not meant to be called from an
# environment directly.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  tags = merge(var.tags, { Environment = var.environment })

  log_group_arn_patterns = [
    for prefix in concat([var.log_group_name_prefix], var.kms_extra_log_group_prefixes) :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${prefix}*"
  ]

  # Services that publish to an SNS topic encrypted with this key (alarms, budgets, the
  # EventBridge rule that forwards recoveries). Only when the caller shares the key.
  publisher_statements = length(var.kms_publisher_service_principals) == 0 ? [] : [
    {
      Sid       = "AllowNotificationPublishers"
      Effect    = "Allow"
      Principal = { Service = var.kms_publisher_service_principals }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
      Resource  = "*"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    },
  ]
}

################################################################################
# Customer-managed KMS key: storage, master secret, Performance Insights, logs
################################################################################

# Only with customer_managed_key = true. The default uses the AWS-managed keys (aws/rds for
# storage and Performance Insights, aws/secretsmanager for the master user secret), which cost
# nothing a month; a customer managed key costs 1 $ a month plus 1 $ for each of its first two
# yearly rotations (3 $ a month from the third year: docs/cost-model.md).
resource "aws_kms_key" "this" {
  count = var.customer_managed_key ? 1 : 0

  description             = var.kms_key_description
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  # Written as JSON rather than an aws_iam_policy_document: in a key policy "Resource": "*"
  # means "this key", which IAM policy scanners would otherwise misread as a wildcard grant.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        # Delegate to IAM: RDS, Secrets Manager and Performance Insights use the key through
        # grants created with the permissions of the principal that manages the database.
        Sid       = "EnableIAMPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs has no grants: it needs a key policy statement, limited here to the
        # database's own log groups.
        Sid       = var.kms_logs_statement_sid
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn_patterns
          }
        }
      },
    ], local.publisher_statements)
  })

  tags = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.customer_managed_key ? 1 : 0

  name          = "alias/${var.name}-db"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Network: subnet group and a security group open only to the application
################################################################################

resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-db"
  description = "Private subnets for ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = local.tags
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:The group is attached to the RDS instance or Aurora cluster by the calling module (rds-postgres, aurora-serverless-v2) through the security_group_id output; checkov does not always follow that across the module boundary (it misses it for prod's count-based module.aurora).
  # A prefix, not a fixed name: with create_before_destroy the replacement (a new description
  # or VPC) exists next to the old group for a moment, and two groups cannot share a name.
  name_prefix = "${var.name}-db-"
  description = var.security_group_description
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-db" })

  # Terraform removes AWS's default allow-all egress rule on create; the only egress is the
  # optional HTTPS rule below. Replies to clients need none (security groups are stateful).

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "app" {
  # Keyed by position, not by id: an environment passes the id of a group it creates in the
  # same apply, unknown at plan time, and for_each keys must be known.
  for_each = { for i, id in var.app_security_group_ids : "app-${i}" => id }

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from application security group ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = each.value
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = toset(var.egress_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ${each.value} (VPC endpoints for database extensions)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = local.tags
}

################################################################################
# Enhanced Monitoring role
################################################################################

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    sid     = "RDSEnhancedMonitoring"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-rds-monitoring"
  description        = "Lets RDS Enhanced Monitoring publish OS metrics for ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
