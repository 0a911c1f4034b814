variable "name" {
  type        = string
  description = "Scylla cluster name and prefix of its resources."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets, one per AZ; node i goes to subnet i modulo their count (one rack per AZ)."
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to use CQL (9042, shard-aware 19042) and read metrics (9180): the EKS cluster's."
}

variable "ami_id" {
  type        = string
  description = "A ScyllaDB machine image (AMI) of the region, from ScyllaDB's published images (README: how to find it). It configures scylla.yaml from the user data on first boot."
}

variable "instance_type" {
  type        = string
  description = "Instance type with local NVMe (ScyllaDB keeps data on instance storage): i4i.xlarge to start, see infra/OPERATIONS.md."
  default     = "i4i.xlarge"
}

variable "node_count" {
  type        = number
  description = "Nodes in the cluster; a multiple of 3 keeps the racks (AZs) even for replication factor 3."
  default     = 3
}

variable "root_volume_gib" {
  type        = number
  description = "Size of each node's encrypted root volume (OS, logs; data is on NVMe)."
  default     = 50
}

variable "password_authentication" {
  type        = bool
  description = "Use PasswordAuthenticator/CassandraAuthorizer. Off until the photoshare services can log in to Scylla (they have no Scylla credential variables yet); the security group is the fence meanwhile."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
