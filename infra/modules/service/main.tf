# The RMS service on AWS Lambda behind an API Gateway HTTP API: nothing runs (or is billed)
# while nobody uses it. Why an HTTP API and not a function URL, why arm64 and Python 3.13, and
# how the first request after a long pause is answered: docs/architecture/aws-stack.md.
#
# The function runs in the VPC's private dual-stack subnets: it reaches the database (the
# only IPv4 destination it may use, by security group) and the sign-in issuer over IPv6
# through the egress-only gateway. It gets its configuration in its environment (no SSM or
# Secrets Manager call, which would need a paid interface endpoint) and logs in to the
# database with an IAM token signed locally (rds-db:connect), so it holds no password.
#
# Creation order, and why there is no cycle: the HTTP API (and so the service URL) exists
# before the function; the Cognito client takes its callback from that URL; the function's
# environment takes the client id; the integration and route come last.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  function_name = "${var.name}-service"

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "service"
  })
}

################################################################################
# Logs (created before Lambda and API Gateway would create them without retention or key)
################################################################################

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/apigateway/${var.name}-http"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

################################################################################
# Role: its own log group, VPC network interfaces, rds-db:connect as the app user. Nothing else.
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaService"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${local.function_name}-role"
  description        = "RMS service function ${local.function_name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

# AWS's policy for functions in a VPC: create, describe and delete the function's network
# interfaces (these EC2 actions take no resource restriction) and write logs.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# jsonencode rather than a policy document data source: the tests then read the real policy.
resource "aws_iam_role_policy" "function" {
  name = "rds-db-connect"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ConnectAsTheApplicationUser"
      Effect   = "Allow"
      Action   = "rds-db:connect"
      Resource = "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${var.db_resource_id}/${var.db_user}"
    }]
  })
}

################################################################################
# Network: the database port to the database's group, HTTPS over IPv6 to the issuer
################################################################################

resource "aws_vpc_security_group_egress_rule" "database" {
  security_group_id            = var.app_security_group_id
  description                  = "PostgreSQL to the database security group"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = var.db_security_group_id
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "https_ipv6" {
  #checkov:skip=CKV_AWS_382:HTTPS out to the IPv6 internet is how the function reaches the sign-in issuer (Cognito discovery, JWKS, token endpoint) without a NAT gateway; port 443 only, IPv6 only, and the egress-only gateway admits no inbound connection.
  security_group_id = var.app_security_group_id
  description       = "HTTPS over IPv6 (egress-only gateway) to the sign-in issuer"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "::/0"
  tags              = local.tags
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing would need the X-Ray API, which a function in a VPC without NAT or an interface endpoint cannot reach; cold starts and retries are measured by the service's own EMF metrics.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by the HTTP API only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_173:The environment holds only non-secret settings (hosts, names, the issuer, the client id; no password: the database login is an IAM token). Lambda encrypts it at rest with its own key; a customer-managed key would add 1 $ a month for nothing secret.
  #checkov:skip=CKV_AWS_272:One owner builds the zip locally (make package) and Terraform checks it against package_sha256; code signing (a signing profile and a signed S3 object) adds an S3 bucket and a second build step for no extra guarantee here.
  function_name = local.function_name
  description   = "RMS service (FastAPI over an ASGI adapter), ${var.environment}"
  role          = aws_iam_role.function.arn

  filename         = var.package_path
  source_code_hash = var.package_sha256
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds

  # A flood cannot run more than this many copies at once; the HTTP API's throttle refuses the
  # excess before it reaches Lambda.
  reserved_concurrent_executions = var.reserved_concurrency

  # SnapStart (var.snapstart): each deploy publishes a version, and Lambda snapshots it after
  # INIT; only published versions are restored from a snapshot, so the API invokes the alias.
  publish = var.snapstart

  dynamic "snap_start" {
    for_each = var.snapstart ? [1] : []
    content {
      apply_on = "PublishedVersions"
    }
  }

  vpc_config {
    subnet_ids                  = var.subnet_ids
    security_group_ids          = [var.app_security_group_id]
    ipv6_allowed_for_dual_stack = var.ipv6_egress
  }

  environment {
    variables = var.environment_variables
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tags = local.tags

  depends_on = [
    aws_iam_role_policy_attachment.vpc_access,
    aws_cloudwatch_log_group.function,
  ]
}

################################################################################
# HTTP API: the public HTTPS entry point
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-http"
  description   = "RMS service ${var.environment}"
  protocol_type = "HTTP"
  tags          = local.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttle_rate_per_second
    throttling_burst_limit = var.throttle_burst
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      path               = "$context.path"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
    })
  }

  tags = local.tags
}

# With SnapStart the API invokes this alias, which follows the version each deploy publishes
# (an unqualified invocation runs $LATEST, which SnapStart never snapshots).
resource "aws_lambda_alias" "live" {
  count            = var.snapstart ? 1 : 0
  name             = "live"
  description      = "The published version the HTTP API invokes (SnapStart)."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

locals {
  invoke_arn = var.snapstart ? aws_lambda_alias.live[0].invoke_arn : aws_lambda_function.this.invoke_arn
}

resource "aws_apigatewayv2_integration" "function" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = local.invoke_arn
  payload_format_version = "2.0"
  # The HTTP API's hard limit. The service answers 503 + Retry-After before it (see the
  # DB_COLD_START_BUDGET_SECONDS validation in the environment).
  timeout_milliseconds = 30000
}

resource "aws_apigatewayv2_route" "default" {
  #checkov:skip=CKV_AWS_309:The service authenticates every request itself (issue 11: the session cookie from the Cognito sign-in, or a bearer token) and must leave /health/live, /health/ready and the sign-in callback open; an API Gateway JWT authorizer can read neither the cookie nor make those exceptions.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  qualifier     = var.snapstart ? aws_lambda_alias.live[0].name : null
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
