output "bootstrap_brokers_sasl_scram" {
  description = "Broker list for SASL/SCRAM over TLS (port 9096): PHOTOSHARE_KAFKA_BROKERS."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "bootstrap_brokers_sasl_iam" {
  description = "Broker list for IAM authentication (port 9098), for operators' tools."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "cluster_arn" {
  description = "ARN of the MSK cluster."
  value       = aws_msk_cluster.this.arn
}

output "scram_username" {
  description = "SASL/SCRAM user name (PHOTOSHARE_KAFKA_SASL_USERNAME)."
  value       = var.scram_username
}

output "scram_secret_arn" {
  description = "Secrets Manager secret (JSON username/password) of the SCRAM user; the password is PHOTOSHARE_KAFKA_SASL_PASSWORD."
  value       = aws_secretsmanager_secret.scram.arn
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.this.id
}
