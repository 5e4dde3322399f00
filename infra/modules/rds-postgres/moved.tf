# The KMS key, subnet group, security group (+ rules) and monitoring role moved into
# module.foundation (modules/db-foundation). These blocks move existing state to the new
# addresses, so a plan after upgrading shows no destroy/create. Keep them: removing a moved
# block is a breaking change for anyone whose state still has the old addresses.

moved {
  from = aws_kms_key.this
  to   = module.foundation.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.foundation.aws_kms_alias.this
}

moved {
  from = aws_db_subnet_group.this
  to   = module.foundation.aws_db_subnet_group.this
}

moved {
  from = aws_security_group.this
  to   = module.foundation.aws_security_group.this
}

moved {
  from = aws_vpc_security_group_ingress_rule.app
  to   = module.foundation.aws_vpc_security_group_ingress_rule.app
}

moved {
  from = aws_vpc_security_group_egress_rule.https
  to   = module.foundation.aws_vpc_security_group_egress_rule.https
}

moved {
  from = aws_iam_role.monitoring
  to   = module.foundation.aws_iam_role.monitoring
}

moved {
  from = aws_iam_role_policy_attachment.monitoring
  to   = module.foundation.aws_iam_role_policy_attachment.monitoring
}
