terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.81" # 5.81+ for seconds_until_auto_pause (Aurora scale to zero)
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
