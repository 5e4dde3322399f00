"""Consistency rules of infra/ that ``terraform test`` cannot see (each was a review finding).

* every root (module or environment) declares the same ``required_version``, at least 1.10,
  because the S3 backend's ``use_lockfile`` needs 1.10;
* every root pins the AWS provider with the same constraint, and it admits the mirrored
  provider version (5.100.0 by default, ``--provider-version``);
* prod keeps its state in S3 with a partial backend configuration (no account in the tree),
  and its example backend configuration locks with ``use_lockfile``.
* keys (issue 30): AWS-managed keys by default everywhere, one variable to opt into a
  customer-managed key: ``customer_managed_key`` defaults to false in the database modules and
  both environments, the environments pass theirs to the database module, monitoring creates no
  key of its own and the service's log groups take none unless given one; and the cost model
  (``src/rms/cost/stack.py``, ``rms cost estimate --stack``) prices what the environments deploy
  by default: ``DEPLOYED_KMS_KEYS`` (also ``StackProfile.kms_keys``'s default) is 0 while the
  Terraform default is false, and ``CUSTOMER_MANAGED_KMS_KEYS`` is the one shared key.
* the function's platform (issue 30): the service module's ``architecture``/``runtime`` and
  the environments' ``service_architecture``/``service_runtime`` have one default each, and
  the cost model prices that one: ``DEPLOYED_LAMBDA_ARCHITECTURE``/``DEPLOYED_LAMBDA_RUNTIME``
  (also ``StackProfile.lambda_architecture``/``lambda_runtime``'s defaults) are equal to it;
  SnapStart (``snapstart``, ``service_snapstart``) is off by default, and so is the model's
  ``DEPLOYED_SNAPSTART`` (and ``StackProfile.snapstart``).

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


def _variable_default(text: str, name: str) -> str | None:
    """The ``default`` of ``variable "name"`` in ``text`` as written (None: no such variable,
    ``"(none)"``: declared without a default)."""
    m = re.search(r'^variable\s+"' + re.escape(name) + r'"\s*\{', text, re.M)
    if not m:
        return None
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    block = text[m.end() : i - 1]
    d = re.search(r"^\s*default\s*=\s*(\S+)", block, re.M)
    return d.group(1) if d else "(none)"


def _root_text(d: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(d.glob("*.tf")))


#: The roots whose customer_managed_key variable chooses the key (and must default to false).
KEY_ROOTS = (
    "modules/db-foundation",
    "modules/aurora-serverless-v2",
    "modules/rds-postgres",
    "environments/dev",
    "environments/prod",
)


def key_rules(root: Path, cost_model: Path) -> list[tuple[bool, str]]:
    """The key rules of issue 30: Terraform's defaults, and the cost model's, agree."""
    results: list[tuple[bool, str]] = []
    defaults = {
        name: _variable_default(_root_text(root / name), "customer_managed_key")
        for name in KEY_ROOTS
    }
    bad = {k: v for k, v in defaults.items() if v != "false"}
    results.append(
        (
            not bad,
            f"customer_managed_key defaults to false in {len(KEY_ROOTS)} roots"
            + (f": {bad}" if bad else ""),
        )
    )
    passes = {
        env: len(
            re.findall(
                r"^\s*customer_managed_key\s*=\s*var\.customer_managed_key\s*$",
                (root / f"environments/{env}/main.tf").read_text(encoding="utf-8"),
                re.M,
            )
        )
        for env in ("dev", "prod")
    }
    results.append(
        (
            passes == {"dev": 1, "prod": 2},
            f"the environments pass customer_managed_key to every database module: {passes}",
        )
    )
    monitoring = _variable_default(_root_text(root / "modules/monitoring"), "create_kms_key")
    service = _variable_default(_root_text(root / "modules/service"), "kms_key_arn")
    own_keys = [
        env
        for env in ("dev", "prod")
        if re.search(
            r"create_kms_key\s*=\s*true", (root / f"environments/{env}/main.tf").read_text("utf-8")
        )
    ]
    results.append(
        (
            monitoring == "false" and service == "null" and not own_keys,
            f"no other key by default (monitoring create_kms_key = {monitoring}, service "
            f"kms_key_arn = {service}, environments creating a topic key: {own_keys or 'none'})",
        )
    )
    model = cost_model.read_text(encoding="utf-8") if cost_model.is_file() else ""
    deployed = re.search(r"^DEPLOYED_KMS_KEYS\s*=\s*(\d+)\s*$", model, re.M)
    cmk = re.search(r"^CUSTOMER_MANAGED_KMS_KEYS\s*=\s*(\d+)\s*$", model, re.M)
    profile = re.search(r"^\s+kms_keys:\s*int\s*=\s*(\w+)\s*$", model, re.M)
    profile_keys = None if profile is None else profile.group(1)
    if deployed and profile_keys == "DEPLOYED_KMS_KEYS":
        profile_keys = deployed.group(1)
    expected = "0" if not bad else "1"
    ok = (
        deployed is not None
        and deployed.group(1) == expected
        and profile_keys == expected
        and cmk is not None
        and cmk.group(1) == "1"
    )
    results.append(
        (
            ok,
            f"cost model ({cost_model.name}) prices the deployed keys: DEPLOYED_KMS_KEYS = "
            f"{deployed.group(1) if deployed else '(missing)'}, StackProfile.kms_keys = "
            f"{profile_keys}, CUSTOMER_MANAGED_KMS_KEYS = {cmk.group(1) if cmk else '(missing)'}"
            f" (Terraform default: {expected} customer managed keys; opt-in: 1)",
        )
    )
    return results


#: (root, variable) pairs that choose the function's architecture, and its runtime.
ARCH_VARIABLES = (
    ("modules/service", "architecture"),
    ("environments/dev", "service_architecture"),
    ("environments/prod", "service_architecture"),
)
SNAPSTART_VARIABLES = (
    ("modules/service", "snapstart"),
    ("environments/dev", "service_snapstart"),
    ("environments/prod", "service_snapstart"),
)
RUNTIME_VARIABLES = (
    ("modules/service", "runtime"),
    ("environments/dev", "service_runtime"),
    ("environments/prod", "service_runtime"),
)


def _model_default(model: str, constant: str, field: str) -> tuple[str | None, str | None]:
    """The cost model's ``constant = "value"`` and ``StackProfile.field``'s default (resolved
    when it names the constant)."""
    const = re.search(r"^" + constant + r'\s*=\s*"([^"]*)"\s*$', model, re.M)
    default = re.search(r"^\s+" + field + r":\s*str\s*=\s*(\S+)\s*$", model, re.M)
    value = None if const is None else const.group(1)
    text = None if default is None else default.group(1)
    if text == constant:
        text = value
    elif text is not None:
        text = text.strip('"')
    return value, text


def lambda_rules(root: Path, cost_model: Path) -> list[tuple[bool, str]]:
    """The platform rules of issue 30: one architecture and one runtime by default in infra/,
    and the cost model prices them."""
    model = cost_model.read_text(encoding="utf-8") if cost_model.is_file() else ""
    results: list[tuple[bool, str]] = []
    for what, variables, constant, field in (
        ("architecture", ARCH_VARIABLES, "DEPLOYED_LAMBDA_ARCHITECTURE", "lambda_architecture"),
        ("runtime", RUNTIME_VARIABLES, "DEPLOYED_LAMBDA_RUNTIME", "lambda_runtime"),
    ):
        defaults = {
            f"{d}.{v}": (_variable_default(_root_text(root / d), v) or "(missing)").strip('"')
            for d, v in variables
        }
        values = set(defaults.values())
        results.append(
            (
                len(values) == 1 and "(none)" not in values and "(missing)" not in values,
                f"one default {what} for the function in infra/: {defaults}",
            )
        )
        deployed, profile = _model_default(model, constant, field)
        terraform = next(iter(values)) if len(values) == 1 else "(several)"
        results.append(
            (
                deployed == terraform and profile == terraform,
                f"cost model ({cost_model.name}) prices the deployed {what}: {constant} = "
                f"{deployed or '(missing)'}, StackProfile.{field} = {profile or '(missing)'} "
                f"(Terraform default: {terraform})",
            )
        )
    defaults = {
        f"{d}.{v}": _variable_default(_root_text(root / d), v) or "(missing)"
        for d, v in SNAPSTART_VARIABLES
    }
    deployed = re.search(r"^DEPLOYED_SNAPSTART\s*=\s*(\w+)\s*$", model, re.M)
    profile = re.search(r"^\s+snapstart:\s*bool\s*=\s*(\w+)\s*$", model, re.M)
    model_value = None if deployed is None else deployed.group(1)
    profile_value = None if profile is None else profile.group(1)
    if profile_value == "DEPLOYED_SNAPSTART":
        profile_value = model_value
    results.append(
        (
            set(defaults.values()) == {"false"}
            and model_value == "False"
            and profile_value == "False",
            f"SnapStart off by default in infra/ ({defaults}) and in the cost model "
            f"(DEPLOYED_SNAPSTART = {model_value or '(missing)'}, StackProfile.snapstart = "
            f"{profile_value or '(missing)'})",
        )
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("infra", type=Path, nargs="?", default=Path(__file__).parents[1])
    parser.add_argument("--provider-version", default="5.100.0")
    parser.add_argument(
        "--cost-model",
        type=Path,
        default=None,
        help="the cost model's stack module (default: <infra>/../src/rms/cost/stack.py)",
    )
    args = parser.parse_args(argv)
    root: Path = args.infra
    cost_model: Path = args.cost_model or root.resolve().parent / "src/rms/cost/stack.py"
    roots = sorted(
        d for pattern in ("modules/*", "environments/*") for d in root.glob(pattern) if d.is_dir()
    )
    required: dict[str, set[Path]] = {}
    pins: dict[str, set[Path]] = {}
    for d in roots:
        text = _root_text(d)
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
    results.extend(key_rules(root, cost_model))
    results.extend(lambda_rules(root, cost_model))
    for ok, text in results:
        print(f"    {'ok  ' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
