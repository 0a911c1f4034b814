variable "name" {
  type        = string
  description = "Identifier of the DB instance and prefix of its companions (subnet group, parameter group, key)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (three AZs) of the DB subnet group."
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on 5432 (the EKS cluster's)."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major version (RDS picks the newest minor and upgrades minors in the maintenance window)."
  default     = "17"
}

variable "instance_class" {
  type        = string
  description = "DB instance class (infra/OPERATIONS.md sizes it for 10 million users)."
  default     = "db.r7g.xlarge"
}

variable "allocated_storage_gib" {
  type        = number
  description = "Initial gp3 storage."
  default     = 200
}

variable "max_allocated_storage_gib" {
  type        = number
  description = "Ceiling of storage autoscaling."
  default     = 2000
}

variable "master_username" {
  type        = string
  description = "Master user, for administration only; its password is generated, kept and rotated by RDS in Secrets Manager (output master_user_secret_arn). The services log in as their own role (infra/OPERATIONS.md), so a rotation never breaks them."
  default     = "photoshare_admin"
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time recovery window)."
  default     = 14
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the PostgreSQL logs exported to CloudWatch Logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
