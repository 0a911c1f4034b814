# ScyllaDB, self-managed on EC2 with ScyllaDB's own machine image (why not ScyllaDB Cloud: see
# README.md). One node per private subnet in turn, so with three subnets the AZs are the racks
# (Ec2Snitch) and a keyspace with replication factor 3 keeps a copy in each AZ.
#
# Every node gets a fixed network interface first, so the seed addresses are known before any
# instance boots and survive an instance replacement. The AMI reads the JSON user data on first
# boot (scylla.yaml settings, then starts scylla-server) and sets up the NVMe instance storage.
# No SSH: nodes are reached with SSM Session Manager (the instance role allows it).

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  seeds     = join(",", slice(aws_network_interface.node[*].private_ip, 0, min(3, var.node_count)))
}

resource "aws_kms_key" "this" {
  description         = "${var.name}: Scylla node volumes"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-scylla"
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
      identifiers = ["arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_security_group" "this" {
  name        = "${var.name}-scylla"
  description = "ScyllaDB nodes of ${var.name} and their clients"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-scylla" })
}

resource "aws_vpc_security_group_ingress_rule" "cql" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "CQL from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9042
  to_port                      = 9042
}

resource "aws_vpc_security_group_ingress_rule" "cql_shard_aware" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Shard-aware CQL from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 19042
  to_port                      = 19042
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Prometheus metrics from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9180
  to_port                      = 9180
}

# Node to node: gossip and streaming (7000, 7001 with TLS), CQL between nodes, the REST API
# that nodetool and Scylla Manager's agent use (10000, 10001), metrics.
resource "aws_vpc_security_group_ingress_rule" "peers" {
  for_each = {
    internode      = [7000, 7001]
    cql            = [9042, 9042]
    cql-shardaware = [19042, 19042]
    rest-api       = [10000, 10001]
    metrics        = [9180, 9180]
    node-exporter  = [9100, 9100]
    manager-agent  = [56090, 56090]
  }
  security_group_id            = aws_security_group.this.id
  description                  = "Scylla ${each.key} between nodes"
  referenced_security_group_id = aws_security_group.this.id
  ip_protocol                  = "tcp"
  from_port                    = each.value[0]
  to_port                      = each.value[1]
}

# Package updates, ScyllaDB's repository, SSM and backups to S3 go out through the NAT.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS out (SSM, S3, package repositories)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.this.id
  description       = "HTTP out (the distribution's package mirrors)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "peers" {
  security_group_id            = aws_security_group.this.id
  description                  = "Scylla nodes to each other"
  referenced_security_group_id = aws_security_group.this.id
  ip_protocol                  = "-1"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.name}-scylla-node"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-scylla-node"
  role = aws_iam_role.node.name
  tags = var.tags
}

resource "aws_network_interface" "node" {
  count           = var.node_count
  subnet_id       = var.subnet_ids[count.index % length(var.subnet_ids)]
  security_groups = [aws_security_group.this.id]
  description     = "${var.name} scylla node ${count.index}"
  tags            = merge(var.tags, { Name = "${var.name}-scylla-${count.index}" })
}

resource "aws_instance" "node" {
  count                = var.node_count
  ami                  = var.ami_id
  instance_type        = var.instance_type
  iam_instance_profile = aws_iam_instance_profile.node.name
  ebs_optimized        = true
  monitoring           = true

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gib
    encrypted             = true
    kms_key_id            = aws_kms_key.this.arn
    delete_on_termination = true
  }

  user_data = jsonencode({
    start_scylla_on_first_boot = true
    scylla_yaml = merge(
      {
        cluster_name    = var.name
        endpoint_snitch = "Ec2Snitch"
        seed_provider = [{
          class_name = "org.apache.cassandra.locator.SimpleSeedProvider"
          parameters = [{ seeds = local.seeds }]
        }]
      },
      var.password_authentication ? {
        authenticator = "PasswordAuthenticator"
        authorizer    = "CassandraAuthorizer"
      } : {}
    )
  })

  tags = merge(var.tags, { Name = "${var.name}-scylla-${count.index}" })

  # A node holds its data on instance storage: replacing it is a Scylla "replace node"
  # procedure (infra/OPERATIONS.md), never a side effect of a new AMI or user data.
  lifecycle {
    ignore_changes = [ami, user_data]
  }
}
