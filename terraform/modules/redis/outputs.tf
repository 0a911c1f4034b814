output "configuration_endpoint" {
  description = "Cluster configuration endpoint (PHOTOSHARE_REDIS_URL is rediss+cluster://:<token>@<this>:6379)."
  value       = aws_elasticache_replication_group.this.configuration_endpoint_address
}

output "port" {
  description = "Port of the cluster."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_token_secret_arn" {
  description = "Secrets Manager secret holding the AUTH token."
  value       = aws_secretsmanager_secret.auth_token.arn
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.this.id
}
