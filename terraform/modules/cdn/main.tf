# CloudFront in front of the media bucket, for the variants only: origin access control signs
# CloudFront's requests to S3 (the bucket stays private; its policy lets this distribution
# read variants/* and nothing else, see the storage module), HTTPS only with TLS 1.2+, a
# custom domain with an ACM certificate, security headers, a WAF web ACL (AWS managed rules and
# a per-IP rate limit), access logs to the log bucket.
#
# Variant keys never change content (variants/<author>/<photo>/<name>.jpg is written once per
# photo), so they are cached (CachingOptimized: a day for objects without Cache-Control). A
# deleted photo's variants are removed from S3 at once but may stay in edge caches until they
# expire there; an invalidation of variants/<author>/<photo>/* ends that when it matters.

data "aws_caller_identity" "current" {}

# AWS managed policies: cache for long, forward CORS headers to S3, add security headers
# (HSTS, nosniff, frame options, referrer policy).
data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_origin_request_policy" "cors_s3" {
  name = "Managed-CORS-S3Origin"
}

data "aws_cloudfront_response_headers_policy" "security_headers" {
  name = "Managed-SecurityHeadersPolicy"
}

locals {
  signed = var.trusted_public_key_pem != null
}

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name}-media"
  description                       = "CloudFront signs its requests to the media bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_public_key" "this" {
  count       = local.signed ? 1 : 0
  name        = "${var.name}-variants"
  encoded_key = var.trusted_public_key_pem
  comment     = "Verifies signed variant URLs"
}

resource "aws_cloudfront_key_group" "this" {
  count = local.signed ? 1 : 0
  name  = "${var.name}-variants"
  items = [aws_cloudfront_public_key.this[0].id]
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_310:One origin on purpose: the bucket is regional and S3's availability is the origin's; failover needs a replicated bucket in a second region (see storage, CKV_AWS_144).
  #checkov:skip=CKV_AWS_305:There is no root document: only variants/<author>/<photo>/<name>.jpg is served, and any other path is refused by the bucket policy.
  #checkov:skip=CKV_AWS_374:photoshare serves a worldwide audience; no country is blocked.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name} photo variants"
  aliases         = [var.domain_name]
  price_class     = var.price_class
  http_version    = "http2and3"
  web_acl_id      = aws_wafv2_web_acl.this.arn

  origin {
    origin_id                = "media"
    domain_name              = var.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  default_cache_behavior {
    target_origin_id           = "media"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id
    trusted_key_groups         = local.signed ? [aws_cloudfront_key_group.this[0].id] : null
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = var.log_bucket_domain_name
    prefix          = "cloudfront/${var.name}/"
    include_cookies = false
  }

  tags = var.tags
}

# ------------------------------------------------------------------------------ WAF

resource "aws_wafv2_web_acl" "this" {
  provider    = aws.us_east_1
  name        = "${var.name}-cdn"
  description = "photoshare CDN: AWS managed rules and a per-IP rate limit"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  # Addresses AWS threat intelligence knows for bots and attacks.
  rule {
    name     = "AWSManagedRulesAmazonIpReputationList"
    priority = 1
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-AWSManagedRulesAmazonIpReputationList"
      sampled_requests_enabled   = true
    }
  }

  # OWASP-style protections.
  rule {
    name     = "AWSManagedRulesCommonRuleSet"
    priority = 2
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-AWSManagedRulesCommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # Known-bad request patterns, including the Log4j (CVE-2021-44228) lookups.
  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 3
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # VPN, Tor and hosting-provider addresses: counted, not blocked. People behind a VPN are
  # legitimate viewers of photos; the metrics show whether blocking is ever worth it (switch
  # override_action to none to block).
  rule {
    name     = "AWSManagedRulesAnonymousIpList"
    priority = 4
    override_action {
      count {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAnonymousIpList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-AWSManagedRulesAnonymousIpList"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-cdn"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# WAF logs: the log group must be in us-east-1 and its name must start with aws-waf-logs-.
resource "aws_kms_key" "waf_logs" {
  provider            = aws.us_east_1
  description         = "${var.name}: CDN web ACL logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.waf_logs_key.json
  tags                = var.tags
}

data "aws_iam_policy_document" "waf_logs_key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  #checkov:skip=CKV_AWS_111:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  #checkov:skip=CKV_AWS_356:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsUsesTheKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.us-east-1.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:us-east-1:${data.aws_caller_identity.current.account_id}:log-group:aws-waf-logs-${var.name}-cdn"]
    }
  }
}

resource "aws_cloudwatch_log_group" "waf" {
  provider          = aws.us_east_1
  name              = "aws-waf-logs-${var.name}-cdn"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.waf_logs.arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  provider                = aws.us_east_1
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]
}
