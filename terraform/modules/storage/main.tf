# The media bucket: private (every public access path blocked, ACLs disabled), TLS only,
# SSE-KMS with a key of its own (S3 bucket keys keep KMS calls low), versioned, access-logged,
# with lifecycle rules, CORS for browser uploads, and read access to variants/ for the CDN only.
#
# Key layout written by the services (ARCHITECTURE.md):
#   originals/<user>/<upload>            the bytes the app PUT with a presigned URL (media)
#   variants/<author>/<photo>/<name>.jpg the resized copies (image-worker)
#
# Lifecycle:
# - abort-incomplete-multipart: multipart uploads left unfinished for a day are aborted (their
#   parts are billed but invisible otherwise).
# - pending-uploads: "orphaned originals" are objects PUT through a presigned URL that never
#   became a photo (the app never called POST /v1/photos). A lifecycle rule cannot ask the
#   database, and a prefix cannot tell them apart either (completed and abandoned uploads share
#   originals/). The rule therefore keys on an object tag: originals carrying
#   photoshare-upload=pending expire after pending_upload_expiry_days. For it to bite, the media
#   service must sign the tag into the presigned PUT (x-amz-tagging: photoshare-upload=pending,
#   returned to the app in the upload's headers) and delete the tag when the photo is created.
#   Until the media service does that, no object carries the tag, the rule expires nothing, and
#   abandoned originals stay (they are bounded by the per-upload size limit and show up in
#   S3 Inventory/Storage Lens); see infra/OPERATIONS.md.
# - noncurrent-versions: versioning keeps deleted and overwritten objects as noncurrent
#   versions for noncurrent_version_expiry_days (recovery from mistakes), then removes them;
#   leftover delete markers are cleaned up.
# - originals-infrequent-access: originals move to Standard-IA after a month.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "this" {
  description         = "${var.bucket_name}: S3 objects"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  #checkov:skip=CKV_AWS_111:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  #checkov:skip=CKV_AWS_356:A KMS key policy, not an identity policy: Resource "*" in a key policy means this key only, and the account-root statement is the standard delegation to IAM that keeps the key manageable.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudFront (origin access control) decrypts the variants it serves. The exact
  # distribution is pinned by the bucket policy; the key admits this account's distributions
  # (naming the distribution here would make the key depend on the distribution that depends on
  # the bucket that depends on the key).
  statement {
    sid       = "CloudFrontDecryptsForOriginAccessControl"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudfront::${local.account_id}:distribution/*"]
    }
  }
}

# ------------------------------------------------------------------------------ media bucket

resource "aws_s3_bucket" "media" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice with its own cost (a second copy of every photo); single-region durability is S3's, versioning covers deletions. Add a replica bucket and aws_s3_bucket_replication_configuration for a multi-region setup.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events: the API (POST /v1/photos) confirms an upload, and photo.uploaded goes through Kafka from the media service's outbox.
  bucket = var.bucket_name
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "media" {
  bucket                  = aws_s3_bucket.media.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "media" {
  bucket = aws_s3_bucket.media.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "media" {
  bucket        = aws_s3_bucket.media.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${var.bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "media" {
  bucket = aws_s3_bucket.media.id

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "pending-uploads"
    status = "Enabled"
    filter {
      and {
        prefix = "originals/"
        tags = {
          photoshare-upload = "pending"
        }
      }
    }
    expiration {
      days = var.pending_upload_expiry_days
    }
  }

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiry_days
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "originals-infrequent-access"
    status = "Enabled"
    filter {
      prefix = "originals/"
    }
    transition {
      days          = var.originals_infrequent_access_days
      storage_class = "STANDARD_IA"
    }
  }

  depends_on = [aws_s3_bucket_versioning.media]
}

resource "aws_s3_bucket_cors_configuration" "media" {
  count  = length(var.cors_allowed_origins) > 0 ? 1 : 0
  bucket = aws_s3_bucket.media.id

  # Presigned PUTs sign Content-Type and Content-Length: the browser sends them as given.
  cors_rule {
    allowed_methods = ["PUT", "GET", "HEAD"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["content-type", "content-md5", "x-amz-*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

data "aws_iam_policy_document" "media" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.media.arn,
      "${aws_s3_bucket.media.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.cdn_distribution_arns) > 0 ? [1] : []
    content {
      sid       = "CloudFrontReadsVariantsOnly"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.media.arn}/variants/*"]
      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = var.cdn_distribution_arns
      }
    }
  }
}

resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = data.aws_iam_policy_document.media.json

  depends_on = [aws_s3_bucket_public_access_block.media]
}

# ------------------------------------------------------------------------------ log bucket

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it into itself would log its own log deliveries forever.
  #checkov:skip=CKV_AWS_144:Access logs are kept in one region; replicating them adds cost without a recovery need.
  #checkov:skip=CKV_AWS_145:S3 server access logging can deliver only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the log bucket.
  bucket = var.log_bucket_name
  tags   = var.tags
}

# CloudFront standard logging delivers through an ACL grant, so this bucket keeps ACLs enabled
# (owner preferred); public access stays blocked.
resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard access logs are delivered through an ACL grant (awslogsdelivery), which needs ACLs enabled on the target bucket.
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_expiry_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogsDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.media.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}
