variable "name" {
  type        = string
  description = "Name prefix of the distribution's companions (origin access control, web ACL, policies)."
}

variable "bucket_regional_domain_name" {
  type        = string
  description = "Regional domain name of the media bucket (storage module output)."
}

variable "domain_name" {
  type        = string
  description = "Host name the CDN answers on, e.g. cdn.photoshare.example.com (PHOTOSHARE_MEDIA_PUBLIC_BASE_URL is https://<this>)."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for domain_name, issued in us-east-1."
}

variable "log_bucket_domain_name" {
  type        = string
  description = "Domain name of the bucket that receives the access logs (storage module output)."
}

variable "price_class" {
  type        = string
  description = "CloudFront price class: PriceClass_100 (North America, Europe), PriceClass_200, or PriceClass_All."
  default     = "PriceClass_All"
}

variable "trusted_public_key_pem" {
  type        = string
  description = "PEM of an RSA public key. When set, the CDN serves only URLs signed with the matching private key (CloudFront signed URLs), so variants of private accounts cannot be fetched by guessing their keys; the media service must then sign variant URLs. Null serves any variants/ URL."
  default     = null
}

variable "rate_limit_per_5_minutes" {
  type        = number
  description = "Requests one client IP may make in 5 minutes before the web ACL blocks it."
  default     = 6000
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the web ACL's logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
