# Unit tests for the shared database foundation. Offline: the AWS provider is mocked with the
# database tests' shared mock data (infra/testing/aws-db).

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name                       = "rms-test"
  environment                = "test"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_ids     = ["sg-0aaaaaaaaaaaaaaaa", "sg-0cccccccccccccccc"]
  kms_key_description        = "rms-test: storage, master user secret, Performance Insights and logs"
  log_group_name_prefix      = "/aws/rds/instance/rms-test/"
  security_group_description = "PostgreSQL rms-test: port 5432 from the application security groups only"
  tags                       = { Module = "test" }
}

run "ingress_only_from_app_security_groups_on_port" {
  command = apply

  # Every loop below is over the two rules counted first: a loop over an empty set is true
  # whatever it checks.
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app) == 2 && tolist([for k in sort(keys(aws_vpc_security_group_ingress_rule.app)) : aws_vpc_security_group_ingress_rule.app[k].referenced_security_group_id]) == var.app_security_group_ids
    error_message = "Exactly one ingress rule per application security group, in order."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app) == 2 && alltrue([for r in aws_vpc_security_group_ingress_rule.app : r.security_group_id == aws_security_group.this.id && r.from_port == 5432 && r.to_port == 5432])
    error_message = "Ingress must be on the database's group and port (5432 by default) only."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app) == 2 && alltrue([for r in aws_vpc_security_group_ingress_rule.app : r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.prefix_list_id == null])
    error_message = "Ingress must never come from a CIDR range or prefix list (no 0.0.0.0/0, no ::/0)."
  }

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.https) == 0
    error_message = "By default the database has no egress rule at all."
  }

  assert {
    # Review: a fixed name with create_before_destroy collides when the group is replaced.
    condition     = output.security_group_id == aws_security_group.this.id && aws_security_group.this.vpc_id == var.vpc_id && aws_security_group.this.name_prefix == "rms-test-db-"
    error_message = "The security group must be named by prefix (rms-test-db-) in the given VPC, exposed as security_group_id."
  }
}

run "ingress_follows_the_port" {
  command = plan

  variables {
    port = 6432
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app) == 2 && alltrue([for r in aws_vpc_security_group_ingress_rule.app : r.from_port == 6432 && r.to_port == 6432])
    error_message = "Ingress must open the given port, and only that port."
  }
}

run "optional_egress_is_https_to_given_cidrs" {
  command = plan

  variables {
    egress_cidr_blocks = ["10.20.0.0/16"]
  }

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.https) == 1 && aws_vpc_security_group_egress_rule.https["10.20.0.0/16"].from_port == 443 && aws_vpc_security_group_egress_rule.https["10.20.0.0/16"].to_port == 443 && aws_vpc_security_group_egress_rule.https["10.20.0.0/16"].cidr_ipv4 == "10.20.0.0/16"
    error_message = "Optional egress must be HTTPS to the given CIDRs only."
  }
}

run "aws_managed_keys_by_default" {
  command = apply

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_kms_alias.this) == 0
    error_message = "By default no customer-managed key is created (AWS-managed keys cost nothing a month)."
  }

  assert {
    condition     = output.kms_key_arn == null && output.kms_key_id == null && output.kms_key_policy == null
    error_message = "With AWS-managed keys the key outputs are null, so the callers leave kms_key_id unset."
  }
}

run "kms_key_rotates_and_admits_only_this_database_logs" {
  command = apply

  variables {
    customer_managed_key = true
  }

  assert {
    condition     = aws_kms_key.this[0].deletion_window_in_days == 30
    error_message = "The key deletion window defaults to 30 days."
  }

  assert {
    condition     = output.kms_key_arn == aws_kms_key.this[0].arn && output.kms_key_id == aws_kms_key.this[0].key_id && aws_kms_alias.this[0].name == "alias/rms-test-db" && aws_kms_alias.this[0].target_key_id == aws_kms_key.this[0].key_id
    error_message = "Outputs and alias must point at the module's key."
  }

  assert {
    condition     = strcontains(aws_kms_key.this[0].policy, "arn:aws:iam::123456789012:root") && strcontains(aws_kms_key.this[0].policy, "logs.us-east-1.amazonaws.com")
    error_message = "The key policy must delegate to the account and admit CloudWatch Logs."
  }

  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[1].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/instance/rms-test/*"]
    error_message = "CloudWatch Logs may use the key only for the database's own log groups."
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.this[0].policy).Statement) == 2
    error_message = "Without publishers, the key policy has no statement for SNS publishers."
  }
}

run "subnet_group_and_monitoring_role" {
  command = apply

  variables {
    customer_managed_key = true
  }

  assert {
    condition     = output.db_subnet_group_name == "rms-test-db" && aws_db_subnet_group.this.subnet_ids == toset(var.subnet_ids)
    error_message = "The subnet group must hold the given subnets."
  }

  assert {
    condition     = output.monitoring_role_arn == aws_iam_role.monitoring.arn && aws_iam_role.monitoring.name == "rms-test-rds-monitoring"
    error_message = "monitoring_role_arn must be the module's Enhanced Monitoring role."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.monitoring.policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" && output.monitoring_policy_arn == aws_iam_role_policy_attachment.monitoring.policy_arn
    error_message = "The monitoring role must carry the AWS managed Enhanced Monitoring policy."
  }

  assert {
    condition     = aws_kms_key.this[0].tags == tomap({ Module = "test", Environment = "test" }) && aws_security_group.this.tags == tomap({ Module = "test", Environment = "test", Name = "rms-test-db" })
    error_message = "Resources must carry the caller's tags plus Environment."
  }
}

run "ingress_for_a_group_created_in_the_same_apply" {
  # Found by the local apply: the environments pass the function's group, created in the same
  # apply, so for_each keys must not be its (unknown at plan time) id. The environments' plan
  # tests exercise the unknown id itself.
  command = plan

  assert {
    condition     = tolist(keys(aws_vpc_security_group_ingress_rule.app)) == tolist(["app-0", "app-1"])
    error_message = "Ingress rules are keyed by position (app-0, app-1, ...), never by a group id."
  }
}

run "kms_key_admits_publishers_and_extra_log_groups" {
  command = apply

  variables {
    customer_managed_key             = true
    kms_extra_log_group_prefixes     = ["/aws/lambda/rms-test-", "/aws/apigateway/rms-test-"]
    kms_publisher_service_principals = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.this[0].policy).Statement[1].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"]) == 3
    error_message = "The key must admit the database's and the extra log group prefixes."
  }

  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[2].Principal.Service == ["cloudwatch.amazonaws.com", "events.amazonaws.com"] && jsondecode(aws_kms_key.this[0].policy).Statement[2].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Publishers get kms:Decrypt/GenerateDataKey limited to this account."
  }
}

run "rejects_a_bare_wildcard_log_prefix" {
  command = plan

  variables {
    kms_extra_log_group_prefixes = ["*"]
  }

  expect_failures = [var.kms_extra_log_group_prefixes]
}

run "rejects_an_unknown_publisher" {
  command = plan

  variables {
    kms_publisher_service_principals = ["s3.amazonaws.com"]
  }

  expect_failures = [var.kms_publisher_service_principals]
}

run "rejects_empty_app_security_groups" {
  command = plan

  variables {
    app_security_group_ids = []
  }

  expect_failures = [var.app_security_group_ids]
}

run "rejects_cidr_as_app_security_group" {
  command = plan

  variables {
    app_security_group_ids = ["0.0.0.0/0"]
  }

  expect_failures = [var.app_security_group_ids]
}

run "rejects_world_open_egress" {
  command = plan

  variables {
    egress_cidr_blocks = ["0.0.0.0/0"]
  }

  expect_failures = [var.egress_cidr_blocks]
}

run "rejects_single_subnet" {
  command = plan

  variables {
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa"]
  }

  expect_failures = [var.subnet_ids]
}
