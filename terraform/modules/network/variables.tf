variable "name" {
  type        = string
  description = "Name prefix of every resource (e.g. photoshare-prod)."
}

variable "cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC. Private subnets take three /19s from its start, public subnets three /24s near its end, so a /16 is expected."
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Exactly three availability zones of the region, one private and one public subnet in each."

  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "Give exactly three availability zones."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for the whole VPC instead of one per AZ: cheaper, but an AZ outage then cuts every private subnet's egress."
  default     = false
}

variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster that will use the subnets; tagged on them so load balancers find their subnets."
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
