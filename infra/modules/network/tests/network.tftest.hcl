# Unit tests for the network module: dual-stack private subnets in two zones, IPv6 out through
# an egress-only gateway, and no IPv4 way to the internet.

mock_provider "aws" {
  source = "../../testing/aws-db"
}

variables {
  name        = "rms-test"
  environment = "test"
}

run "two_dual_stack_private_subnets" {
  command = apply

  assert {
    condition     = length(aws_subnet.private) == 2 && aws_subnet.private[0].availability_zone != aws_subnet.private[1].availability_zone
    error_message = "Two subnets in two Availability Zones (an RDS subnet group needs two)."
  }

  assert {
    condition     = length(aws_subnet.private) == 2 && alltrue([for s in aws_subnet.private : s.ipv6_cidr_block != null && s.assign_ipv6_address_on_creation && !s.map_public_ip_on_launch]) && output.dual_stack
    error_message = "Each subnet must be dual-stack (an IPv6 /64 of the VPC's range) and give no public IPv4."
  }

  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.40.0.0/24", "10.40.1.0/24"] && [for s in aws_subnet.private : s.ipv6_cidr_block] == ["2600:1f18:1234:5600::/64", "2600:1f18:1234:5601::/64"]
    error_message = "Subnets take consecutive /24 (IPv4) and /64 (IPv6) ranges of the VPC."
  }
}

run "only_route_is_ipv6_to_the_egress_only_gateway" {
  command = apply

  assert {
    condition     = aws_route.ipv6_egress.destination_ipv6_cidr_block == "::/0" && aws_route.ipv6_egress.egress_only_gateway_id == aws_egress_only_internet_gateway.this.id && aws_route.ipv6_egress.destination_cidr_block == null && aws_route.ipv6_egress.gateway_id == null && aws_route.ipv6_egress.nat_gateway_id == null
    error_message = "The one route out is ::/0 to the egress-only gateway: no IPv4 default route, no internet or NAT gateway."
  }

  assert {
    condition     = length(aws_route_table_association.private) == 2 && alltrue([for a in aws_route_table_association.private : a.route_table_id == aws_route_table.private.id])
    error_message = "Both subnets use the private route table."
  }
}

run "app_group_has_a_prefix_and_no_rules" {
  command = plan

  assert {
    condition     = aws_security_group.app.name_prefix == "rms-test-app-" && aws_security_group.app.vpc_id == aws_vpc.this.id
    error_message = "The service's group is named by prefix, in the VPC."
  }
}

run "ipv4_only_for_the_local_apply" {
  command = plan

  variables {
    subnet_ipv6  = false
    subnet_count = 3
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && alltrue([for s in aws_subnet.private : s.ipv6_cidr_block == null]) && output.dual_stack == false
    error_message = "subnet_ipv6 = false must leave the subnets IPv4-only, and say so."
  }
}

run "rejects_one_subnet" {
  command = plan

  variables {
    subnet_count = 1
  }

  expect_failures = [var.subnet_count]
}

run "rejects_a_small_vpc" {
  command = plan

  variables {
    cidr_block = "10.40.0.0/24"
  }

  expect_failures = [var.cidr_block]
}
