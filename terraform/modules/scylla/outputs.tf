output "node_addresses" {
  description = "Private addresses of the nodes."
  value       = aws_network_interface.node[*].private_ip
}

output "contact_points" {
  description = "PHOTOSHARE_SCYLLA_NODES: every node as host:9042, comma-separated."
  value       = join(",", [for ip in aws_network_interface.node[*].private_ip : "${ip}:9042"])
}

output "instance_ids" {
  description = "EC2 instance ids of the nodes (aws ssm start-session --target ...)."
  value       = aws_instance.node[*].id
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.this.id
}
