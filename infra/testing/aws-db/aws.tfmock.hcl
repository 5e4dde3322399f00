# Mock AWS data shared by the module and environment tests (modules/db-foundation, modules/aurora-serverless-v2,
# modules/rds-postgres, environments/dev, environments/prod), loaded with
#   mock_provider "aws" { source = "<relative path to this directory>" }
# Data sources return fixed, valid values; the KMS key, role and security group get known ids so
# that "uses the module's own key / role / group" can be asserted by equality.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/test"
    user_id    = "AIDATEST"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"monitoring.rds.amazonaws.com\"}}]}"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    key_id = "11111111-2222-3333-4444-555555555555"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/rms-test-rds-monitoring"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    id = "sg-0db0000000000000a"
  }
}

# RDS manages the master password in Secrets Manager: the secret's ARN is what the rotation
# resource and the settings refer to.
mock_resource "aws_rds_cluster" {
  defaults = {
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1111-abcdef"
      kms_key_id    = "11111111-2222-3333-4444-555555555555"
      secret_status = "active"
    }]
    cluster_resource_id = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY"
    endpoint            = "rms-test.cluster-abc123.us-east-1.rds.amazonaws.com"
    port                = 5432
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-2222-abcdef"
      kms_key_id    = "11111111-2222-3333-4444-555555555555"
      secret_status = "active"
    }]
    resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    address     = "rms-test.abc123.us-east-1.rds.amazonaws.com"
    port        = 5432
  }
}

# The environments' network: two Availability Zones, an IPv6 range for the VPC.
mock_data "aws_availability_zones" {
  defaults = {
    names = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }
}

mock_resource "aws_vpc" {
  defaults = {
    id              = "vpc-0e0000000000000aa"
    ipv6_cidr_block = "2600:1f18:1234:5600::/56"
  }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = {
    api_endpoint  = "https://abc123defg.execute-api.us-east-1.amazonaws.com"
    execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123defg"
  }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    id = "us-east-1_AbCdEfGhI"
  }
}

mock_resource "aws_cognito_user_pool_client" {
  defaults = {
    id = "1example23456789abcdefghij"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/mock"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:rms-test-service"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:rms-test-service/invocations"
    version    = "1"
  }
}

mock_resource "aws_lambda_alias" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:rms-test-service:live"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:rms-test-service:live/invocations"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:123456789012:rms-test-alarms"
  }
}

mock_resource "aws_cloudwatch_event_rule" {
  defaults = {
    arn = "arn:aws:events:us-east-1:123456789012:rule/rms-test-alarm-recovered"
  }
}
