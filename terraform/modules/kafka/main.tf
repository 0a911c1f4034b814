# Amazon MSK: brokers in three AZs, TLS between clients and brokers and between brokers,
# encryption at rest with its own KMS key, broker logs in CloudWatch, no unauthenticated access.
#
# Two client authentication methods are enabled:
# - SASL/SCRAM-SHA-512 (port 9096) is what the photoshare services use today. They speak Kafka
#   through librdkafka, which supports SCRAM natively: PHOTOSHARE_KAFKA_SECURITY_PROTOCOL=SASL_SSL,
#   PHOTOSHARE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512, user and password from the secret below.
# - IAM (port 9098) is enabled for operators' tools (the Kafka CLI with the MSK IAM library) and
#   for the services later: librdkafka reaches MSK IAM only through SASL/OAUTHBEARER with a
#   token signer callback (SigV4 of the IRSA credentials), which photoshare does not have yet.
#   When it does, the services switch to 9098 with the IAM roles of terraform/modules/iam and
#   the SCRAM secret can go.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "this" {
  description         = "${var.name}: MSK data at rest, SCRAM secret, broker logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-msk"
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

  statement {
    sid       = "CloudWatchLogsUsesTheKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/msk/${var.name}"]
    }
  }
}

resource "aws_security_group" "this" {
  name        = "${var.name}-msk"
  description = "Kafka clients of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk" })
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Kafka TLS, SASL/SCRAM and IAM listeners from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9094
  to_port                      = 9098
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/msk/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_msk_configuration" "this" {
  name           = var.name
  kafka_versions = [var.kafka_version]
  description    = "photoshare: replicated topics, explicit creation"

  # Topics are created by the services with their partition count; a typo in a topic name
  # must fail instead of creating a one-partition topic. Three replicas, two in sync for acks.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    num.partitions=${var.default_partitions}
    log.retention.hours=${var.retention_hours}
    unclean.leader.election.enable=false
    allow.everyone.if.no.acl.found=true
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = length(var.subnet_ids) * var.broker_multiplier

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gib
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  client_authentication {
    unauthenticated = false
    sasl {
      scram = true
      iam   = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.this.arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this.name
      }
    }
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  enhanced_monitoring = "PER_TOPIC_PER_PARTITION"

  tags = var.tags
}

# ------------------------------------------------------------------------------ SCRAM user
# MSK reads SCRAM credentials from Secrets Manager secrets whose names start with AmazonMSK_
# and that are encrypted with a customer managed key.

resource "random_password" "scram" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "scram" {
  #checkov:skip=CKV2_AWS_57:MSK SCRAM secrets have no Secrets Manager rotation integration; the password is rotated by terraform (taint random_password.scram, apply, update the Kubernetes Secret, restart), infra/OPERATIONS.md.
  name        = "AmazonMSK_${var.name}_${var.scram_username}"
  description = "SASL/SCRAM credentials of the photoshare services on MSK ${var.name}"
  kms_key_id  = aws_kms_key.this.arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "scram" {
  secret_id = aws_secretsmanager_secret.scram.id
  secret_string = jsonencode({
    username = var.scram_username
    password = random_password.scram.result
  })
}

data "aws_iam_policy_document" "scram" {
  statement {
    sid       = "AWSKafkaResourcePolicy"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.scram.arn]
    principals {
      type        = "Service"
      identifiers = ["kafka.amazonaws.com"]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "scram" {
  secret_arn = aws_secretsmanager_secret.scram.arn
  policy     = data.aws_iam_policy_document.scram.json
}

resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [aws_secretsmanager_secret.scram.arn]

  depends_on = [aws_secretsmanager_secret_version.scram, aws_secretsmanager_secret_policy.scram]
}
