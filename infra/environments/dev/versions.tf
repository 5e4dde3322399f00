terraform {
  required_version = ">= 1.10" # use_lockfile (S3 backend) needs 1.10

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # the mirrored provider is 5.100.0; 5.81+ has seconds_until_auto_pause
    }
  }

  # State: use a remote backend for anything shared, for example
  #   backend "s3" {
  #     bucket       = "<state-bucket>"
  #     key          = "rms/dev/terraform.tfstate"
  #     region       = "us-east-1"
  #     encrypt      = true
  #     use_lockfile = true
  #   }
  # and run `terraform init -backend-config=...`. Without one, state is local (gitignored).
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = "rms"
      Environment = local.environment
      ManagedBy   = "terraform"
      Repository  = "rms/infra/environments/dev"
    }
  }
}
