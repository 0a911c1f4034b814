variable "name" {
  type        = string
  description = "Replication group id and prefix of its companions."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cache."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (three AZs) of the cache subnet group."
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on 6379 (the EKS cluster's)."
}

variable "engine_version" {
  type        = string
  description = "Redis OSS engine version."
  default     = "7.1"
}

variable "node_type" {
  type        = string
  description = "Cache node type (infra/OPERATIONS.md sizes the feed cache for 10 million users)."
  default     = "cache.r7g.xlarge"
}

variable "shards" {
  type        = number
  description = "Node groups (shards) of the cluster-mode-enabled group; feed:{user} keys spread over them by hash slot."
  default     = 3
}

variable "replicas_per_shard" {
  type        = number
  description = "Replicas of each shard, in other AZs than its primary (failover target)."
  default     = 1
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days of daily snapshots kept (the feed cache can be rebuilt from Scylla, so this is for faster recovery only)."
  default     = 3
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the slow log and engine log in CloudWatch Logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
