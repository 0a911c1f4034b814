variable "name" {
  type        = string
  description = "Repository name (the image is <account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  default     = "photoshare"
}

variable "keep_images" {
  type        = number
  description = "Number of most recent images kept; older ones expire (rollback reaches back this far)."
  default     = 100
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
