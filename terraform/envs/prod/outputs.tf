output "region" {
  description = "AWS region (PHOTOSHARE_S3_REGION)."
  value       = var.region
}

output "account_id" {
  description = "AWS account id (replaces 111122223333 in infra/k8s/overlays/prod)."
  value       = local.account_id
}

output "vpc_cidr" {
  description = "CIDR of the VPC (the data-store NetworkPolicies allow it)."
  value       = module.network.vpc_cidr
}

output "eks_cluster_name" {
  description = "EKS cluster: aws eks update-kubeconfig --region <region> --name <this>."
  value       = module.eks.cluster_name
}

output "ecr_repository_url" {
  description = "Where the photoshare image is pushed."
  value       = module.registry.repository_url
}

output "postgres_address" {
  description = "RDS endpoint host (PHOTOSHARE_POSTGRES_URL)."
  value       = module.postgres.address
}

output "postgres_master_secret_arn" {
  description = "Secrets Manager secret with the RDS master credentials (administration only)."
  value       = module.postgres.master_user_secret_arn
}

output "redis_configuration_endpoint" {
  description = "ElastiCache configuration endpoint (PHOTOSHARE_REDIS_URL host)."
  value       = module.redis.configuration_endpoint
}

output "redis_auth_token_secret_arn" {
  description = "Secrets Manager secret with the Redis AUTH token."
  value       = module.redis.auth_token_secret_arn
}

output "kafka_bootstrap_brokers_sasl_scram" {
  description = "PHOTOSHARE_KAFKA_BROKERS (SASL/SCRAM over TLS, port 9096)."
  value       = module.kafka.bootstrap_brokers_sasl_scram
}

output "kafka_bootstrap_brokers_sasl_iam" {
  description = "MSK brokers for IAM-authenticated tools (port 9098)."
  value       = module.kafka.bootstrap_brokers_sasl_iam
}

output "kafka_scram_secret_arn" {
  description = "Secrets Manager secret with the SCRAM user and password (PHOTOSHARE_KAFKA_SASL_*)."
  value       = module.kafka.scram_secret_arn
}

output "scylla_nodes" {
  description = "PHOTOSHARE_SCYLLA_NODES."
  value       = module.scylla.contact_points
}

output "scylla_instance_ids" {
  description = "Scylla EC2 instances (SSM sessions for cqlsh and nodetool)."
  value       = module.scylla.instance_ids
}

output "bucket_name" {
  description = "PHOTOSHARE_S3_BUCKET."
  value       = module.storage.bucket_name
}

output "cdn_base_url" {
  description = "PHOTOSHARE_MEDIA_PUBLIC_BASE_URL (see the caveat in infra/OPERATIONS.md before setting it)."
  value       = module.cdn.base_url
}

output "cdn_distribution_id" {
  description = "CloudFront distribution id (invalidations)."
  value       = module.cdn.distribution_id
}

output "service_role_arns" {
  description = "IRSA role of each service (eks.amazonaws.com/role-arn of its ServiceAccount)."
  value       = module.iam.service_role_arns
}

output "lb_controller_role_arn" {
  description = "IRSA role for the AWS Load Balancer Controller."
  value       = module.iam.lb_controller_role_arn
}

output "lb_controller_role_name" {
  description = "Name of that role (attach the controller's IAM policy to it)."
  value       = module.iam.lb_controller_role_name
}

output "vpc_id" {
  description = "VPC id (the AWS Load Balancer Controller's vpcId setting)."
  value       = module.network.vpc_id
}

output "api_certificate_arn" {
  description = "ACM certificate of the API host (the ALB finds it from the Ingress's TLS host)."
  value       = aws_acm_certificate_validation.api.certificate_arn
}
