# One IAM role per photoshare service for IRSA: the role trusts exactly one Kubernetes
# ServiceAccount (system:serviceaccount:<namespace>:<service>) of this cluster, through its
# OIDC provider. Permissions follow what each service does with S3 (ARCHITECTURE.md):
#
#   media         presigns PUTs of originals (the app's upload runs with media's identity),
#                 HEADs and sniffs them, deletes originals and variants of deleted photos,
#                 tags/untags pending uploads (storage module, lifecycle)
#   image-worker  reads originals, writes variants
#
# and both use the bucket's KMS key for those objects. Every other service gets a role with no
# permissions at all: a pod with the ServiceAccount then has an AWS identity that can do
# nothing, instead of falling back to anything else. Kafka (SCRAM) and PostgreSQL (password)
# are not reached with IAM today (see the kafka module).
#
# The AWS Load Balancer Controller, which turns the gateway's Ingress into an ALB, gets a role
# here too; its (long, upstream-maintained) permissions are attached by the operator from the
# controller's release (infra/OPERATIONS.md).

locals {
  s3 = {
    media = [
      {
        sid       = "Originals"
        actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:GetObjectTagging"]
        resources = ["${var.bucket_arn}/originals/*"]
      },
      {
        sid       = "Variants"
        actions   = ["s3:GetObject", "s3:DeleteObject"]
        resources = ["${var.bucket_arn}/variants/*"]
      },
    ]
    image-worker = [
      {
        sid       = "ReadOriginals"
        actions   = ["s3:GetObject"]
        resources = ["${var.bucket_arn}/originals/*"]
      },
      {
        sid       = "WriteVariants"
        actions   = ["s3:PutObject"]
        resources = ["${var.bucket_arn}/variants/*"]
      },
    ]
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = toset(var.services)

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${each.value}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "service" {
  for_each             = toset(var.services)
  name                 = "${var.name}-${each.value}"
  description          = "photoshare ${each.value} (IRSA, ${var.namespace}/${each.value})"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.value].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "s3" {
  for_each = local.s3

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }

  statement {
    sid       = "BucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.bucket_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "s3" {
  for_each = { for service, _ in local.s3 : service => service if contains(var.services, service) }
  name     = "media-bucket"
  role     = aws_iam_role.service[each.key].id
  policy   = data.aws_iam_policy_document.s3[each.key].json
}

# ------------------------------------------------------------------------------ add-ons

data "aws_iam_policy_document" "lb_controller_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:kube-system:aws-load-balancer-controller"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lb_controller" {
  name               = "${var.name}-aws-load-balancer-controller"
  description        = "AWS Load Balancer Controller (IRSA, kube-system/aws-load-balancer-controller)"
  assume_role_policy = data.aws_iam_policy_document.lb_controller_assume.json
  tags               = var.tags
}
