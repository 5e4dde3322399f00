# Unit tests for the service module: the function, its least-privilege role, its network
# rules, the HTTP API in front of it, and the limits that keep a flood from running up a bill.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name                  = "rms-test"
  environment           = "test"
  package_path          = "dist/rms-lambda.zip"
  package_sha256        = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  subnet_ids            = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  app_security_group_id = "sg-0aaaaaaaaaaaaaaaa"
  db_security_group_id  = "sg-0db0000000000000a"
  db_resource_id        = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY"
  environment_variables = { DB_HOST = "db.example", AUTH_OIDC_AUDIENCE = "abc" }
}

run "function_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.function_name == "rms-test-service" && aws_lambda_function.this.runtime == "python3.13" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "Defaults: rms-test-service on python3.13, arm64 (make package's LAMBDA_PYTHON and LAMBDA_ARCH defaults)."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 30 && aws_lambda_function.this.memory_size == 512 && aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "Defaults: 30 s timeout (the HTTP API's limit), 512 MB, at most 5 concurrent copies."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == var.package_sha256 && aws_lambda_function.this.filename == var.package_path
    error_message = "The zip and its hash come from the variables (a new hash deploys new code)."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap(var.environment_variables)
    error_message = "The configuration reaches the function's environment as given."
  }
}

run "function_in_the_vpc_with_ipv6_egress" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.vpc_config[0].subnet_ids == toset(var.subnet_ids) && aws_lambda_function.this.vpc_config[0].security_group_ids == toset([var.app_security_group_id]) && aws_lambda_function.this.vpc_config[0].ipv6_allowed_for_dual_stack
    error_message = "The function runs in the given subnets with the app group, using IPv6 in dual-stack subnets."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.database.referenced_security_group_id == var.db_security_group_id && aws_vpc_security_group_egress_rule.database.from_port == 5432 && aws_vpc_security_group_egress_rule.database.to_port == 5432 && aws_vpc_security_group_egress_rule.database.cidr_ipv4 == null
    error_message = "The database port is open only to the database's security group."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.https_ipv6.cidr_ipv6 == "::/0" && aws_vpc_security_group_egress_rule.https_ipv6.cidr_ipv4 == null && aws_vpc_security_group_egress_rule.https_ipv6.from_port == 443 && aws_vpc_security_group_egress_rule.https_ipv6.to_port == 443
    error_message = "Internet egress is HTTPS over IPv6 only (the egress-only gateway), never IPv4."
  }
}

run "role_is_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role_policy.function.policy).Statement[0].Action == "rds-db:connect" && length(jsondecode(aws_iam_role_policy.function.policy).Statement) == 1
    error_message = "The inline policy grants rds-db:connect and nothing else."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.function.policy).Statement[0].Resource == "arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXY/rms_app"
    error_message = "rds-db:connect only as the application user of this database."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.vpc_access.policy_arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" && aws_lambda_function.this.role == aws_iam_role.function.arn
    error_message = "The only managed policy is AWS's VPC execution policy, on the function's own role."
  }
}

run "logs_without_a_customer_key_by_default" {
  command = plan

  assert {
    condition     = alltrue([for g in [aws_cloudwatch_log_group.function, aws_cloudwatch_log_group.api] : g.retention_in_days == 365 && g.kms_key_id == null])
    error_message = "By default (AWS-managed keys) the log groups have a retention and no customer-managed key: CloudWatch Logs encrypts them itself."
  }

  assert {
    condition     = aws_lambda_function.this.kms_key_arn == null
    error_message = "The function's environment is encrypted with the AWS-managed aws/lambda key, at no monthly charge."
  }
}

run "logs_with_retention_and_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_cloudwatch_log_group.function.name == "/aws/lambda/rms-test-service" && aws_lambda_function.this.logging_config[0].log_group == aws_cloudwatch_log_group.function.name
    error_message = "The function logs to its own, pre-created log group."
  }

  assert {
    condition     = alltrue([for g in [aws_cloudwatch_log_group.function, aws_cloudwatch_log_group.api] : g.retention_in_days == 365 && g.kms_key_id == var.kms_key_arn])
    error_message = "Function and API logs have a retention and the given KMS key."
  }
}

run "http_api_in_front" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_integration.function.integration_uri == aws_lambda_function.this.invoke_arn && aws_apigatewayv2_integration.function.payload_format_version == "2.0" && aws_apigatewayv2_integration.function.timeout_milliseconds == 30000
    error_message = "The API proxies to the function (payload 2.0) and waits its full 30 s."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 10 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 20
    error_message = "The stage throttles to 10 requests/s, bursts of 20, by default."
  }

  assert {
    condition     = aws_lambda_permission.api.principal == "apigateway.amazonaws.com" && aws_lambda_permission.api.source_arn == "arn:aws:execute-api:us-east-1:123456789012:abc123defg/*/*"
    error_message = "Only this API may invoke the function."
  }

  assert {
    condition     = output.service_url == "https://abc123defg.execute-api.us-east-1.amazonaws.com" && output.service_host == "abc123defg.execute-api.us-east-1.amazonaws.com"
    error_message = "service_url is the API's endpoint; service_host its host name."
  }
}

run "tunable_limits" {
  command = plan

  variables {
    reserved_concurrency     = -1
    throttle_rate_per_second = 2
    throttle_burst           = 4
    architecture             = "x86_64"
    runtime                  = "python3.12"
    ipv6_egress              = false
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 2 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 4
    error_message = "Concurrency and throttles must follow the variables."
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.runtime == "python3.12" && !aws_lambda_function.this.vpc_config[0].ipv6_allowed_for_dual_stack
    error_message = "Architecture, runtime and IPv6 use must follow the variables."
  }
}

run "the_older_runtime_on_x86_64" {
  command = plan

  variables {
    architecture = "x86_64"
    runtime      = "python3.11"
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.runtime == "python3.11" && output.architecture == "x86_64" && output.runtime == "python3.11"
    error_message = "x86_64 on python3.11 (Amazon Linux 2) must stay possible."
  }
}

run "python3_12_on_arm64" {
  command = plan

  variables {
    runtime = "python3.12"
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_function.this.runtime == "python3.12"
    error_message = "arm64 on python3.12 (Amazon Linux 2023) must be accepted."
  }
}

run "rejects_arm64_on_python3_11" {
  command = plan

  variables {
    runtime = "python3.11"
  }

  expect_failures = [var.architecture]
}

run "rejects_an_unknown_runtime" {
  command = plan

  variables {
    runtime = "python3.10"
  }

  expect_failures = [var.runtime]
}

run "rejects_an_unknown_architecture" {
  command = plan

  variables {
    architecture = "sparc"
  }

  expect_failures = [var.architecture]
}

run "rejects_a_timeout_beyond_the_api_limit" {
  command = plan

  variables {
    timeout_seconds = 60
  }

  expect_failures = [var.timeout_seconds]
}

run "rejects_the_master_user" {
  command = plan

  variables {
    db_user = "rms_admin"
  }

  expect_failures = [var.db_user]
}

run "rejects_a_password_in_the_environment" {
  command = plan

  variables {
    environment_variables = { DB_PASSWORD = "hunter2" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_a_hash_that_is_not_base64_sha256" {
  command = plan

  variables {
    package_sha256 = "missing: run make package or set service_package_sha256"
  }

  expect_failures = [var.package_sha256]
}

run "rejects_unbounded_concurrency" {
  command = plan

  variables {
    reserved_concurrency = 0
  }

  expect_failures = [var.reserved_concurrency]
}

run "snapstart_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.this.snap_start) == 0 && aws_lambda_function.this.publish == false && length(aws_lambda_alias.live) == 0 && output.snapstart == false && output.invoked_version == "$LATEST"
    error_message = "SnapStart is off by default: no published version, no alias, the API invokes $LATEST."
  }
}

run "snapstart_on_publishes_and_serves_the_alias" {
  command = apply

  variables {
    snapstart = true
  }

  assert {
    condition     = one(aws_lambda_function.this.snap_start).apply_on == "PublishedVersions" && aws_lambda_function.this.publish && output.snapstart
    error_message = "snapstart = true snapshots the published versions, and each deploy publishes one."
  }

  assert {
    condition     = aws_lambda_alias.live[0].function_version == aws_lambda_function.this.version && output.invoked_version == "1"
    error_message = "The live alias follows the version this deploy published."
  }

  assert {
    condition     = aws_apigatewayv2_integration.function.integration_uri == aws_lambda_alias.live[0].invoke_arn && aws_apigatewayv2_integration.function.integration_uri != aws_lambda_function.this.invoke_arn
    error_message = "The API invokes the alias (a snapshot is restored for published versions only), not $LATEST."
  }

  assert {
    condition     = aws_lambda_permission.api.qualifier == "live"
    error_message = "The API's permission is on the alias it invokes."
  }
}

run "snapstart_on_python3_12" {
  command = plan

  variables {
    snapstart = true
    runtime   = "python3.12"
  }

  assert {
    condition     = one(aws_lambda_function.this.snap_start).apply_on == "PublishedVersions" && aws_lambda_function.this.runtime == "python3.12"
    error_message = "SnapStart on python3.12 must be accepted."
  }
}

run "rejects_snapstart_on_python3_11" {
  command = plan

  variables {
    snapstart    = true
    architecture = "x86_64"
    runtime      = "python3.11"
  }

  expect_failures = [var.snapstart]
}
