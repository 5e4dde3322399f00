# Mock AWS data shared by the database tests (modules/db-foundation, modules/aurora-serverless-v2,
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
