variable "region" {
  type        = string
  description = "AWS region of the deployment."
  default     = "eu-west-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource; also the EKS cluster's name."
  default     = "photoshare-prod"
}

variable "availability_zones" {
  type        = list(string)
  description = "The three availability zones of the region to use, named explicitly so the layout never moves when AWS adds a zone."
  default     = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the VPC (a /16). If changed, change the NetworkPolicies' 10.0.0.0/16 in infra/k8s to match."
  default     = "10.0.0.0/16"
}

variable "dns_zone_name" {
  type        = string
  description = "Public Route 53 hosted zone that already exists in the account, e.g. photoshare.example.com. The API and the CDN get names in it."
}

variable "api_host" {
  type        = string
  description = "Host name of the API (an ACM certificate is issued for it; the ALB serves it). Must be inside dns_zone_name."
}

variable "cdn_host" {
  type        = string
  description = "Host name of the CDN for photo variants. Must be inside dns_zone_name."
}

variable "eks_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the Kubernetes API from the internet; empty keeps it private to the VPC."
  default     = []
}

variable "eks_admin_principal_arns" {
  type        = list(string)
  description = "IAM roles/users given cluster-admin on EKS (operators, CI), besides the identity that creates the cluster."
  default     = []
}

variable "eks_node_instance_types" {
  type        = list(string)
  description = "Instance types of the EKS managed node group."
  default     = ["m7i.xlarge"]
}

variable "eks_node_ami_type" {
  type        = string
  description = "AMI type of the EKS nodes: AL2023_x86_64_STANDARD for amd64 types, AL2023_ARM_64_STANDARD for Graviton (then build the image for linux/arm64)."
  default     = "AL2023_x86_64_STANDARD"
}

variable "eks_node_min_size" {
  type        = number
  description = "Fewest EKS nodes."
  default     = 3
}

variable "eks_node_max_size" {
  type        = number
  description = "Most EKS nodes."
  default     = 12
}

variable "postgres_instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.r7g.xlarge"
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.r7g.xlarge"
}

variable "redis_shards" {
  type        = number
  description = "ElastiCache shards (node groups)."
  default     = 3
}

variable "kafka_broker_instance_type" {
  type        = string
  description = "MSK broker instance type."
  default     = "kafka.m7g.large"
}

variable "scylla_ami_id" {
  type        = string
  description = "ScyllaDB AMI of the region (terraform/modules/scylla/README.md tells how to find it)."
}

variable "scylla_instance_type" {
  type        = string
  description = "Instance type of the Scylla nodes (local NVMe)."
  default     = "i4i.xlarge"
}

variable "scylla_node_count" {
  type        = number
  description = "Scylla nodes (a multiple of 3)."
  default     = 3
}

variable "cors_allowed_origins" {
  type        = list(string)
  description = "Web app origins allowed to upload to the bucket from a browser (native apps need none)."
  default     = []
}

variable "cdn_trusted_public_key_pem" {
  type        = string
  description = "RSA public key (PEM) that CDN URLs must be signed with; null serves unsigned variant URLs (see terraform/modules/cdn)."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource (cost allocation, owner)."
  default     = {}
}
