terraform {
  required_version = ">= 1.10" # use_lockfile (S3 backend) needs 1.10

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # the mirrored provider is 5.100.0; 5.81+ has seconds_until_auto_pause
    }
  }

  # Remote state in S3 with S3-native locking (use_lockfile, Terraform 1.10+). Partial
  # configuration: the bucket (which names the account) is never committed. Copy
  # backend.hcl.example to backend.hcl (gitignored) and run
  #   terraform init -backend-config=backend.hcl
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = "rms"
      Environment = local.environment
      ManagedBy   = "terraform"
      Repository  = "rms/infra/environments/prod"
    }
  }
}
