# A VPC for one RMS environment with no paid networking: two dual-stack private subnets (the
# database needs two Availability Zones), no internet gateway for IPv4, no NAT gateway, no
# interface endpoint. The only way out is IPv6 through an egress-only internet gateway, which
# is free (data transfer out is billed as usual): the service function uses it to reach the
# sign-in issuer (Cognito's discovery document, JWKS and token endpoint) over HTTPS. Nothing
# can connect in: an egress-only gateway passes replies only, and no subnet has an IPv4
# route to the internet. See docs/architecture/aws-stack.md.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first subnet_count names are used (slice below); AWS gives new zones new letters after the existing ones, so a larger result set does not move the subnets. Pinning zone ids would tie the module to one account's zone mapping.
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.subnet_count)

  tags = merge(var.tags, {
    Environment = var.environment
    Module      = "network"
  })
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:VPC flow logs are billed as CloudWatch Logs ingestion for every packet record, a running cost for a single-user stack whose goal is an idle bill under 4 $; the database and function logs are kept. Turn them on per incident with `aws ec2 create-flow-logs`.
  cidr_block                       = var.cidr_block
  assign_generated_ipv6_cidr_block = true
  enable_dns_support               = true
  enable_dns_hostnames             = true

  tags = merge(local.tags, { Name = var.name })
}

# The default security group is left with no rules, so nothing attached to it by mistake can
# talk to anything.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-default-closed" })
}

resource "aws_subnet" "private" {
  count = var.subnet_count

  vpc_id                          = aws_vpc.this.id
  availability_zone               = local.azs[count.index]
  cidr_block                      = cidrsubnet(var.cidr_block, 8, count.index)
  ipv6_cidr_block                 = var.subnet_ipv6 ? cidrsubnet(aws_vpc.this.ipv6_cidr_block, 8, count.index) : null
  assign_ipv6_address_on_creation = var.subnet_ipv6
  map_public_ip_on_launch         = false

  tags = merge(local.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_egress_only_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = var.name })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-private" })
}

resource "aws_route" "ipv6_egress" {
  route_table_id              = aws_route_table.private.id
  destination_ipv6_cidr_block = "::/0"
  egress_only_gateway_id      = aws_egress_only_internet_gateway.this.id
}

resource "aws_route_table_association" "private" {
  count = var.subnet_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# The security group of the service: the database admits it, the service module adds its
# egress rules (the database port to the database group, HTTPS over IPv6). Created here, with
# no rules, so that the database and the function can each refer to it without a cycle.
resource "aws_security_group" "app" {
  #checkov:skip=CKV2_AWS_5:Attached to the service function by modules/service (vpc_config.security_group_ids) through the app_security_group_id output; checkov does not follow that across modules.
  name_prefix = "${var.name}-app-"
  description = "RMS service ${var.name}: the database admits it; egress rules live with the function"
  vpc_id      = aws_vpc.this.id
  tags        = merge(local.tags, { Name = "${var.name}-app" })

  lifecycle {
    create_before_destroy = true
  }
}
