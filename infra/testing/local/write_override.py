"""Print a Terraform override file that points the AWS provider at a moto server.

Used by ``infra/apply-local.sh`` only, written into a scratch copy of ``environments/dev``
(never into the tree). Credentials are not in it: they come from the environment (fake keys).
"""

from __future__ import annotations

import sys

#: Every service the dev environment touches, by the provider's endpoint names.
SERVICES = (
    "apigatewayv2",
    "budgets",
    "cloudwatch",
    "cognitoidp",
    "ec2",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "secretsmanager",
    "sns",
    "ssm",
    "sts",
)


def render(endpoint: str) -> str:
    lines = [
        "# Written by infra/apply-local.sh: every AWS endpoint is the moto server on loopback.",
        'provider "aws" {',
        "  skip_credentials_validation = true",
        "  skip_metadata_api_check     = true",
        "  skip_requesting_account_id  = false",
        "  skip_region_validation      = true",
        "",
        "  endpoints {",
    ]
    lines += [f'    {name} = "{endpoint}"' for name in SERVICES]
    lines += ["  }", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith("http://127.0.0.1:"):
        sys.exit("usage: write_override.py http://127.0.0.1:PORT")
    sys.stdout.write(render(sys.argv[1]))
