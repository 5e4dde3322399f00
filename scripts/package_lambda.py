"""Build the Lambda deployment zip, ``dist/rms-lambda.zip`` (``make package``), reproducibly.

What goes in, and why:

- the ``rms`` package, as its own wheel builds it (``uv build --wheel``: the package data of
  ``pyproject.toml`` and the ``dist-info`` that ``importlib.metadata.version("rms")`` reads);
- its runtime dependencies exactly as ``uv.lock`` pins them (``uv export --frozen
  --no-dev``), as binary wheels for the function's platform, so nothing is compiled here
  and what runs is what the lock names. The platform follows the runtime's glibc: Lambda's
  python3.12 and python3.13 run on Amazon Linux 2023 (glibc 2.34), so ``manylinux_2_34``
  wheels; python3.11 on Amazon Linux 2 (glibc 2.26), so ``manylinux2014`` (glibc 2.17). The
  default is **arm64 + python3.13** (what infra/ deploys by default: Graviton is 20 % cheaper
  per GB-second). python3.11 stays possible on x86_64 only: the locked psycopg-binary (3.3.9)
  publishes aarch64 wheels for glibc 2.27 and later, which Amazon Linux 2 cannot load, so
  uv refuses that pair (docs/lambda.md). ``make package-test`` runs the handler from an
  x86_64 python3.13 zip under Debian 13's python3.13. boto3 is in the runtime too,
  but ours is pinned and tested, so it ships;
- minus what the function never imports: matplotlib and what only it needs (numpy,
  pillow, fonttools...: ``--prune matplotlib``), which only ``rms cost estimate --plot``
  uses; console scripts (``bin/``, whose shebangs name this machine's interpreter);
  byte-code and caches (Lambda compiles on import into memory; a ``.pyc`` would only tie the
  bytes to this machine's interpreter build);
- the RDS CA bundle as ``rds-global-bundle.pem`` at the root (``/var/task/...``, what
  ``DB_SSLROOTCERT`` names), if one is given (``--ca-bundle`` or ``RMS_RDS_CA_BUNDLE``, or
  ``certs/rds-global-bundle.pem`` in the clone). It cannot be downloaded here, and is not
  made up: without it the zip is built with a warning, and the function cannot verify the
  database's certificate (``DB_SSLMODE=verify-full``) until it is added.

Reproducible: the file list is sorted, every entry has the same timestamp (1980-01-01, the
zip format's first) and normalised permissions (0644, or 0755 when executable), and no file
that names this machine, this clone or the time of the build (``direct_url.json``,
``uv_cache.json``, ``RECORD``, scripts) is kept, so a rebuild
from the same commit and lock gives the same bytes (``tests/scripts/test_package_lambda.py``
checks it). It prints the zip's size, its unzipped size (Lambda allows 250 MB) and the
base64 SHA-256 that ``service_package_sha256`` (``filebase64sha256``) takes.

Written by hand because no packaging tool writes a deterministic zip of a ``--target``
tree; each step is one uv command, and the zip is the standard library's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CA_BUNDLE_NAME = "rds-global-bundle.pem"
CA_BUNDLE_ENV = "RMS_RDS_CA_BUNDLE"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
#: (architecture, Python version) -> the wheel platform its Lambda runtime can load.
PLATFORMS = {
    ("x86_64", "3.11"): "x86_64-manylinux2014",
    ("arm64", "3.11"): "aarch64-manylinux2014",
    ("x86_64", "3.12"): "x86_64-manylinux_2_34",
    ("arm64", "3.12"): "aarch64-manylinux_2_34",
    ("x86_64", "3.13"): "x86_64-manylinux_2_34",
    ("arm64", "3.13"): "aarch64-manylinux_2_34",
}
#: The function's default platform: the runtime and architecture infra/ deploys by default.
DEFAULT_ARCH = "arm64"
DEFAULT_PYTHON = "3.13"
#: Packages the function never imports, with what only they need.
PRUNED = ("matplotlib",)
#: Files and directories that are never shipped.
DROPPED_DIRS = {"__pycache__", "bin"}
DROPPED_SUFFIXES = (".pyc", ".pyo")
#: In ``*.dist-info``: where the wheel came from and when uv cached it (this machine, this
#: clone, this minute), and RECORD, which lists them (only an uninstaller reads it).
DROPPED_NAMES = {"direct_url.json", "uv_cache.json", "RECORD"}


@dataclass(frozen=True)
class Package:
    path: Path
    size: int
    unzipped: int
    files: int
    sha256_b64: str
    ca_bundle: bool


def _run(command: Sequence[str], cwd: Path = ROOT, *, what: str = "") -> None:
    # The commands are this script's own (uv and fixed arguments), not user input.
    done = subprocess.run(  # noqa: S603
        list(command), cwd=cwd, check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise SystemExit(f"error: {what or command[1]} failed: {detail}")


def build_tree(
    uv: str, work: Path, *, platform: str, python_version: str, pruned: Iterable[str]
) -> Path:
    """The function's files under ``work/site``: the rms wheel and the locked wheels."""
    shutil.rmtree(work, ignore_errors=True)
    wheels, site = work / "wheel", work / "site"
    requirements = work / "requirements.txt"
    work.mkdir(parents=True)
    _run([uv, "build", "--wheel", "--quiet", "--out-dir", str(wheels)])
    export = [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"]
    export += ["--no-header", "--format", "requirements-txt", "--output-file", str(requirements)]
    for name in pruned:
        export += ["--prune", name]
    _run([*export, "--quiet"])
    (rms_wheel,) = sorted(wheels.glob("rms-*.whl"))
    install = [uv, "pip", "install", "--quiet", "--target", str(site), "--no-deps"]
    install += ["--python-platform", platform, "--python-version", python_version]
    install += ["--only-binary", ":all:", "--link-mode", "copy"]
    _run(
        [*install, "-r", str(requirements), str(rms_wheel)],
        what=f"installing the locked wheels for {platform}, CPython {python_version}",
    )
    strip(site)
    return site


def strip(site: Path) -> None:
    """Remove what the function does not need and what would tie the bytes to this machine."""
    for path in sorted(site.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in DROPPED_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and _dropped(path):
            path.unlink()


def _dropped(path: Path) -> bool:
    if path.suffix in DROPPED_SUFFIXES:
        return True
    return path.name in DROPPED_NAMES and path.parent.suffix == ".dist-info"


def find_ca_bundle(given: str | None) -> Path | None:
    for candidate in (given, os.environ.get(CA_BUNDLE_ENV), ROOT / "certs" / CA_BUNDLE_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def check_ca_bundle(path: Path) -> None:
    text = path.read_text(encoding="ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise SystemExit(f"error: {path} is not a PEM certificate bundle")


def write_zip(site: Path, out: Path, extra: dict[str, Path] | None = None) -> int:
    """Zip ``site`` (plus ``extra`` archive names -> files) deterministically; unzipped size."""
    entries = {p.relative_to(site).as_posix(): p for p in site.rglob("*") if p.is_file()}
    entries.update(extra or {})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    total = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            source = entries[name]
            data = source.read_bytes()
            total += len(data)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so the permissions below are what Lambda sees
            mode = 0o755 if os.access(source, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(out)
    return total


def sha256_b64(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def package(
    uv: str,
    out: Path,
    *,
    work: Path,
    ca_bundle: str | None = None,
    arch: str = DEFAULT_ARCH,
    python_version: str = DEFAULT_PYTHON,
) -> Package:
    platform = PLATFORMS[(arch, python_version)]
    site = build_tree(uv, work, platform=platform, python_version=python_version, pruned=PRUNED)
    bundle = find_ca_bundle(ca_bundle)
    if bundle is not None:
        check_ca_bundle(bundle)
    unzipped = write_zip(site, out, {CA_BUNDLE_NAME: bundle} if bundle else None)
    with zipfile.ZipFile(out) as zf:
        files = len(zf.infolist())
    return Package(out, out.stat().st_size, unzipped, files, sha256_b64(out), bundle is not None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=shutil.which("uv") or "uv", help="the uv to use")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "rms-lambda.zip")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument(
        "--ca-bundle",
        help=f"the RDS CA bundle (default: ${CA_BUNDLE_ENV}, or certs/{CA_BUNDLE_NAME})",
    )
    parser.add_argument(
        "--arch",
        choices=sorted({arch for arch, _ in PLATFORMS}),
        default=DEFAULT_ARCH,
        help="the function's architecture",
    )
    parser.add_argument(
        "--python-version",
        choices=sorted({version for _, version in PLATFORMS}),
        default=DEFAULT_PYTHON,
        help="its runtime's Python",
    )
    args = parser.parse_args(argv)
    built = package(
        args.uv,
        args.out.resolve(),
        work=args.work.resolve(),
        ca_bundle=args.ca_bundle,
        arch=args.arch,
        python_version=args.python_version,
    )
    mib = 1024 * 1024
    print(f"package: {built.path} ({args.arch}, python{args.python_version})")
    print(f"  size:     {built.size / mib:.1f} MiB zipped, {built.unzipped / mib:.1f} MiB unzipped")
    print(f"            ({built.unzipped / LAMBDA_UNZIPPED_LIMIT:.0%} of Lambda's 250 MB limit)")
    print(f"  files:    {built.files}")
    print(f"  sha256:   {built.sha256_b64}  (base64: service_package_sha256)")
    if not built.ca_bundle:
        print(
            f"warning: no RDS CA bundle in the package: put it at certs/{CA_BUNDLE_NAME} (or "
            f"set {CA_BUNDLE_ENV}) and run make package again; without it the function cannot "
            "verify the database (DB_SSLMODE=verify-full, DB_SSLROOTCERT=/var/task/"
            f"{CA_BUNDLE_NAME}). See docs/lambda.md.",
            file=sys.stderr,
        )
    if built.unzipped > LAMBDA_UNZIPPED_LIMIT:
        print("error: over Lambda's 250 MB unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
