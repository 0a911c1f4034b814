# Remote state in S3, locked with an S3 lock file next to it (use_lockfile; no DynamoDB table
# needed since Terraform 1.10). The bucket is created once, by hand, before `terraform init`
# (infra/OPERATIONS.md, step 1), and named at init time:
#
#   terraform init -backend-config=backend.hcl      # see backend.hcl.example
terraform {
  backend "s3" {
    key          = "photoshare/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
