"""Check the outputs of the local apply (``terraform output -json``) and print them.

Exits 1 naming each output that is missing or malformed. The shapes are those AWS (and moto)
give: an HTTPS service URL, the Cognito issuer of the pool, a client id, a DB endpoint.
"""

from __future__ import annotations

import json
import re
import sys

EXPECTED = {
    "service_url": re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?$"),
    "issuer": re.compile(
        r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9-]+_[A-Za-z0-9]+$"
    ),
    "client_id": re.compile(r"^[A-Za-z0-9]{10,128}$"),
    "writer_endpoint": re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"),
    "function_name": re.compile(r"^rms-dev-service$"),
}


def main(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        outputs = json.load(fh)
    bad = []
    for name, pattern in EXPECTED.items():
        value = outputs.get(name, {}).get("value")
        if not isinstance(value, str) or not pattern.match(value):
            bad.append(f"{name}: {value!r} does not match {pattern.pattern}")
        else:
            print(f"    ok    {name} = {value}")
    for line in bad:
        print(f"    FAIL  {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
