output "distribution_arn" {
  description = "ARN of the distribution (the storage module's bucket policy lets it read variants/)."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_id" {
  description = "ID of the distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_domain_name" {
  description = "CloudFront domain name; domain_name must be an alias (or CNAME) of it in DNS."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Route 53 zone id of CloudFront, for an alias record."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "base_url" {
  description = "PHOTOSHARE_MEDIA_PUBLIC_BASE_URL: variant URLs become <this>/<object key>."
  value       = "https://${var.domain_name}"
}
