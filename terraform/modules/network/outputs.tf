output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR of the VPC (the data-store NetworkPolicies of infra/k8s allow it)."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the three private subnets, in the order of availability_zones."
  value       = aws_subnet.private[*].id
}

output "private_subnet_cidrs" {
  description = "CIDRs of the three private subnets, in the order of availability_zones."
  value       = aws_subnet.private[*].cidr_block
}

output "public_subnet_ids" {
  description = "IDs of the three public subnets (load balancers, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "private_route_table_ids" {
  description = "IDs of the private route tables."
  value       = aws_route_table.private[*].id
}

output "nat_public_ips" {
  description = "Public addresses the private subnets reach the internet from (for allow-lists elsewhere)."
  value       = aws_eip.nat[*].public_ip
}
