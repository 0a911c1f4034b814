variable "name" {
  type        = string
  description = "Name of the MSK cluster and prefix of its companions."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets, one per AZ; one broker per subnet (times broker_multiplier)."
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to reach the brokers (TLS 9094, SASL/SCRAM 9096, IAM 9098): the EKS cluster's."
}

variable "kafka_version" {
  type        = string
  description = "Apache Kafka version of MSK."
  default     = "3.8.x"
}

variable "broker_instance_type" {
  type        = string
  description = "Broker instance type (infra/OPERATIONS.md sizes it)."
  default     = "kafka.m7g.large"
}

variable "broker_multiplier" {
  type        = number
  description = "Brokers per AZ (3 AZs, so brokers = 3 x this)."
  default     = 1
}

variable "broker_volume_gib" {
  type        = number
  description = "EBS storage per broker."
  default     = 500
}

variable "default_partitions" {
  type        = number
  description = "num.partitions for topics created without an explicit count (photoshare creates its topics with events.kafka_partitions)."
  default     = 12
}

variable "retention_hours" {
  type        = number
  description = "log.retention.hours: how long events are kept (replays after a consumer bug must fit in it)."
  default     = 168
}

variable "scram_username" {
  type        = string
  description = "SASL/SCRAM user the photoshare services log in as."
  default     = "photoshare"
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep broker logs in CloudWatch Logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
