output "repository_url" {
  description = "Image repository URL: docker push <this>:<tag>."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}
