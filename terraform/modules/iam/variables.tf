variable "name" {
  type        = string
  description = "Prefix of the role names: <name>-<service> (the prod overlay's ServiceAccounts name these roles)."
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the EKS cluster's IAM OIDC provider (eks module output)."
}

variable "oidc_issuer" {
  type        = string
  description = "The cluster's OIDC issuer without https:// (eks module output)."
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the photoshare ServiceAccounts."
  default     = "photoshare"
}

variable "services" {
  type        = list(string)
  description = "Services that get a role, named after their ServiceAccount. Those not given S3 access below get a role without permissions."
  default     = ["gateway", "users", "media", "image-worker", "graph", "engagement", "feed", "feed-worker"]
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the media bucket (storage module output)."
}

variable "bucket_kms_key_arn" {
  type        = string
  description = "KMS key of the media bucket (storage module output)."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
