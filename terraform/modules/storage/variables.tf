variable "bucket_name" {
  type        = string
  description = "Name of the media bucket (globally unique; PHOTOSHARE_S3_BUCKET)."
}

variable "log_bucket_name" {
  type        = string
  description = "Name of the bucket receiving the media bucket's server access logs and the CDN's access logs."
}

variable "cors_allowed_origins" {
  type        = list(string)
  description = "Web origins allowed to PUT uploads and GET objects with presigned URLs from a browser (e.g. https://app.photoshare.example.com). Native mobile apps are not subject to CORS; empty means no CORS rule."
  default     = []
}

variable "cdn_distribution_arns" {
  type        = list(string)
  description = "CloudFront distributions allowed to read variants/ through origin access control (the cdn module's distribution)."
  default     = []
}

variable "pending_upload_expiry_days" {
  type        = number
  description = "Days after which an original still tagged photoshare-upload=pending (uploaded but never turned into a photo) is deleted."
  default     = 2
}

variable "noncurrent_version_expiry_days" {
  type        = number
  description = "Days a replaced or deleted object version is kept (undo window for mistakes) before it is removed for good."
  default     = 30
}

variable "originals_infrequent_access_days" {
  type        = number
  description = "Days after which originals move to S3 Standard-IA (they are read once, by the image worker, and again only to reprocess)."
  default     = 30
}

variable "log_expiry_days" {
  type        = number
  description = "Days to keep access logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
