variable "name" {
  type        = string
  description = "Name of the EKS cluster (also the prefix of its IAM roles, keys and log group)."
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane and the node group (e.g. 1.33). Upgrade one minor at a time."
  default     = "1.33"
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (one per AZ) for the control plane's network interfaces and the nodes."
}

variable "public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the Kubernetes API from the internet. Empty (the default) keeps the endpoint private: reach it from the VPC (a VPN, or SSM port forwarding through an instance)."
  default     = []
}

variable "admin_principal_arns" {
  type        = list(string)
  description = "IAM roles or users granted cluster-admin through EKS access entries (the operators, CI). The identity running terraform is granted it as well."
  default     = []
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the managed node group (amd64 m7i.xlarge by default; Graviton types such as m7g.xlarge need an arm64 image and node_ami_type AL2023_ARM_64_STANDARD)."
  default     = ["m7i.xlarge"]
}

variable "node_ami_type" {
  type        = string
  description = "AMI type of the nodes: AL2023_x86_64_STANDARD for amd64 instance types, AL2023_ARM_64_STANDARD for Graviton."
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_min_size" {
  type        = number
  description = "Fewest nodes in the managed node group."
  default     = 3
}

variable "node_desired_size" {
  type        = number
  description = "Nodes at creation (later changes come from the cluster autoscaler or an operator; terraform ignores drift in it)."
  default     = 3
}

variable "node_max_size" {
  type        = number
  description = "Most nodes in the managed node group."
  default     = 12
}

variable "node_disk_size_gib" {
  type        = number
  description = "Size of each node's encrypted root volume (images, logs, emptyDirs)."
  default     = 50
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the control plane logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
