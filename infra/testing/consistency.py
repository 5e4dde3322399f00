"""Consistency rules of infra/ that ``terraform test`` cannot see (each was a review finding).

* every root (module or environment) declares the same ``required_version``, at least 1.10,
  because the S3 backend's ``use_lockfile`` needs 1.10;
* every root pins the AWS provider with the same constraint, and it admits the mirrored
  provider version (5.100.0 by default, ``--provider-version``);
* prod keeps its state in S3 with a partial backend configuration (no account in the tree),
  and its example backend configuration locks with ``use_lockfile``.

Prints one ``ok``/``FAIL`` line per rule, exits 1 if any fails. Run by ``infra/check.sh``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REQUIRED = re.compile(r'required_version\s*=\s*"([^"]+)"')
PROVIDER = re.compile(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"([^"]+)"')


def _admits(constraint: str, version: str) -> bool:
    """Whether a ``~> X.Y`` / ``>= X.Y`` constraint admits ``version`` (the forms used here)."""
    want = tuple(int(p) for p in version.split("."))
    m = re.fullmatch(r"(~>|>=|=)?\s*([0-9.]+)", constraint.strip())
    if not m:
        return False
    op, base_text = m.group(1) or "=", m.group(2)
    base = tuple(int(p) for p in base_text.split("."))
    padded = want[: len(base)]
    if op == "=":
        return want == base + (0,) * (len(want) - len(base))
    if op == ">=":
        return want >= base
    # ~> X.Y: >= X.Y and < X+1; ~> X.Y.Z: >= X.Y.Z and < X.Y+1
    return want >= base and padded[:-1] == base[:-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("infra", type=Path, nargs="?", default=Path(__file__).parents[1])
    parser.add_argument("--provider-version", default="5.100.0")
    args = parser.parse_args(argv)
    root: Path = args.infra
    roots = sorted(
        d for pattern in ("modules/*", "environments/*") for d in root.glob(pattern) if d.is_dir()
    )
    required: dict[str, set[Path]] = {}
    pins: dict[str, set[Path]] = {}
    for d in roots:
        text = "".join(p.read_text(encoding="utf-8") for p in sorted(d.glob("*.tf")))
        for value in REQUIRED.findall(text) or ["(none)"]:
            required.setdefault(value, set()).add(d)
        for value in PROVIDER.findall(text) or ["(none)"]:
            pins.setdefault(value, set()).add(d)

    results: list[tuple[bool, str]] = []
    (req,) = required if len(required) == 1 else ("",)
    ok = len(required) == 1 and _admits(req, "1.10.0") and not _admits(req, "1.9.0")
    results.append((ok, f"required_version in all {len(roots)} roots: {sorted(required)}"))
    (pin,) = pins if len(pins) == 1 else ("",)
    ok = len(pins) == 1 and _admits(pin, args.provider_version)
    results.append(
        (ok, f"AWS provider constraint in all roots: {sorted(pins)} admits {args.provider_version}")
    )
    prod = (root / "environments/prod/versions.tf").read_text(encoding="utf-8")
    results.append(
        (bool(re.search(r'^\s*backend\s+"s3"\s*\{\s*\}', prod, re.M)), "prod state in S3 (partial)")
    )
    example = root / "environments/prod/backend.hcl.example"
    has_lock = example.is_file() and bool(
        re.search(r"^use_lockfile\s*=\s*true", example.read_text(encoding="utf-8"), re.M)
    )
    results.append((has_lock, "prod backend example locks with use_lockfile"))
    for ok, text in results:
        print(f"    {'ok  ' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
