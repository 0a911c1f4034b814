output "service_role_arns" {
  description = "IAM role ARN of each service, keyed by service: the eks.amazonaws.com/role-arn annotation of its ServiceAccount (infra/k8s/overlays/prod/serviceaccounts.yaml)."
  value       = { for service, role in aws_iam_role.service : service => role.arn }
}

output "lb_controller_role_arn" {
  description = "IAM role of the AWS Load Balancer Controller's ServiceAccount (kube-system/aws-load-balancer-controller)."
  value       = aws_iam_role.lb_controller.arn
}

output "lb_controller_role_name" {
  description = "Name of that role, to attach the controller's upstream IAM policy to (infra/OPERATIONS.md)."
  value       = aws_iam_role.lb_controller.name
}
