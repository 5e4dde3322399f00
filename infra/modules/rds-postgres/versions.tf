terraform {
  required_version = ">= 1.10" # use_lockfile (S3 backend) needs 1.10

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # the mirrored provider is 5.100.0; 5.81+ has seconds_until_auto_pause
    }
  }
}
