output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Dual-stack private subnets, one per Availability Zone."
  value       = aws_subnet.private[*].id
}

output "app_security_group_id" {
  description = "Security group of the service (the database admits it)."
  value       = aws_security_group.app.id
}

output "egress_only_gateway_id" {
  description = "Egress-only internet gateway (IPv6 out, nothing in)."
  value       = aws_egress_only_internet_gateway.this.id
}

output "dual_stack" {
  description = "Whether the subnets have IPv6 ranges (the function's IPv6 egress)."
  value       = alltrue([for s in aws_subnet.private : s.assign_ipv6_address_on_creation])
}
