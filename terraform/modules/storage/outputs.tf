output "bucket_name" {
  description = "Name of the media bucket (PHOTOSHARE_S3_BUCKET)."
  value       = aws_s3_bucket.media.id
}

output "bucket_arn" {
  description = "ARN of the media bucket."
  value       = aws_s3_bucket.media.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the media bucket (the CDN's origin)."
  value       = aws_s3_bucket.media.bucket_regional_domain_name
}

output "kms_key_arn" {
  description = "KMS key encrypting the media bucket (the services' roles need it to read and write objects)."
  value       = aws_kms_key.this.arn
}

output "log_bucket_domain_name" {
  description = "Domain name of the log bucket (CloudFront's logging target)."
  value       = aws_s3_bucket.logs.bucket_domain_name
}
