# photoshare in production on AWS: every module of terraform/modules wired together.
# The order of `terraform apply` is the graph's; the whole procedure from an empty account
# (state bucket, apply, kubeconfig, secrets, image, manifests) is infra/OPERATIONS.md.

data "aws_caller_identity" "current" {}

data "aws_route53_zone" "this" {
  name         = var.dns_zone_name
  private_zone = false
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  tags = merge(var.tags, {
    Project     = "photoshare"
    Environment = "prod"
    ManagedBy   = "terraform"
  })
}

module "network" {
  source             = "../../modules/network"
  name               = var.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  cluster_name       = var.name
}

module "eks" {
  source               = "../../modules/eks"
  name                 = var.name
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  public_access_cidrs  = var.eks_public_access_cidrs
  admin_principal_arns = var.eks_admin_principal_arns
  node_instance_types  = var.eks_node_instance_types
  node_ami_type        = var.eks_node_ami_type
  node_min_size        = var.eks_node_min_size
  node_desired_size    = var.eks_node_min_size
  node_max_size        = var.eks_node_max_size
}

module "postgres" {
  source                     = "../../modules/postgres"
  name                       = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class             = var.postgres_instance_class
}

module "redis" {
  source                     = "../../modules/redis"
  name                       = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                  = var.redis_node_type
  shards                     = var.redis_shards
}

module "kafka" {
  source                     = "../../modules/kafka"
  name                       = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  broker_instance_type       = var.kafka_broker_instance_type
}

module "scylla" {
  source                     = "../../modules/scylla"
  name                       = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  ami_id                     = var.scylla_ami_id
  instance_type              = var.scylla_instance_type
  node_count                 = var.scylla_node_count
}

module "storage" {
  source                = "../../modules/storage"
  bucket_name           = "${var.name}-media-${local.account_id}"
  log_bucket_name       = "${var.name}-logs-${local.account_id}"
  cors_allowed_origins  = var.cors_allowed_origins
  cdn_distribution_arns = [module.cdn.distribution_arn]
}

module "iam" {
  source             = "../../modules/iam"
  name               = var.name
  oidc_provider_arn  = module.eks.oidc_provider_arn
  oidc_issuer        = module.eks.oidc_issuer
  bucket_arn         = module.storage.bucket_arn
  bucket_kms_key_arn = module.storage.kms_key_arn
}

module "registry" {
  source = "../../modules/registry"
  name   = "photoshare"
}

module "cdn" {
  source = "../../modules/cdn"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
  name                        = var.name
  bucket_regional_domain_name = module.storage.bucket_regional_domain_name
  domain_name                 = var.cdn_host
  certificate_arn             = aws_acm_certificate_validation.cdn.certificate_arn
  log_bucket_domain_name      = module.storage.log_bucket_domain_name
  trusted_public_key_pem      = var.cdn_trusted_public_key_pem
}

# ------------------------------------------------------------------------------ TLS and DNS
# Certificates validated through DNS in the zone. The CDN's name points at CloudFront here; the
# API's name points at the ALB that the AWS Load Balancer Controller creates from the Ingress,
# so that record is made after the first deploy (infra/OPERATIONS.md).

resource "aws_acm_certificate" "api" {
  domain_name       = var.api_host
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "cdn" {
  provider          = aws.us_east_1
  domain_name       = var.cdn_host
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation_records = merge(
    { for o in aws_acm_certificate.api.domain_validation_options : "api-${o.domain_name}" => o },
    { for o in aws_acm_certificate.cdn.domain_validation_options : "cdn-${o.domain_name}" => o },
  )
}

resource "aws_route53_record" "validation" {
  for_each        = local.validation_records
  zone_id         = data.aws_route53_zone.this.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  certificate_arn         = aws_acm_certificate.api.arn
  validation_record_fqdns = [for k, r in aws_route53_record.validation : r.fqdn if startswith(k, "api-")]
}

resource "aws_acm_certificate_validation" "cdn" {
  provider                = aws.us_east_1
  certificate_arn         = aws_acm_certificate.cdn.arn
  validation_record_fqdns = [for k, r in aws_route53_record.validation : r.fqdn if startswith(k, "cdn-")]
}

resource "aws_route53_record" "cdn" {
  for_each = toset(["A", "AAAA"])
  zone_id  = data.aws_route53_zone.this.zone_id
  name     = var.cdn_host
  type     = each.value

  alias {
    name                   = module.cdn.distribution_domain_name
    zone_id                = module.cdn.distribution_hosted_zone_id
    evaluate_target_health = false
  }
}
