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
  whatever byte-code and caches the wheels carried;
- byte-code for every module, compiled here for the function's Python version (issue 30):
  ``/var/task`` is read-only, so without it Lambda compiles every module it imports at every
  cold start, in memory (measured 4.5 to 8.5 s against 1.8 to 2.4 s from ``.pyc``,
  docs/lambda.md). ``python -m compileall --invalidation-mode unchecked-hash`` by an
  interpreter of that version (``--compile-python``, else ``uv python find``, ``pythonX.Y`` on
  the PATH or a pyenv version: a ``.pyc`` carries its version's magic number, which must be
  the runtime's). Unchecked-hash ``.pyc`` hold no source timestamp and are never checked
  against the source (which cannot change in a zip), with ``PYTHONHASHSEED=0`` (set
  constants are marshalled in hash order) and the paths inside rewritten to ``/var/task/...``
  (``-s``/``-p``), so they are the same bytes on every build. ``--no-bytecode`` leaves them
  out;
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
#: Where Lambda unpacks the zip: the paths compiled into the byte-code (tracebacks name them).
TASK_ROOT = "/var/task"


@dataclass(frozen=True)
class Package:
    path: Path
    size: int
    unzipped: int
    files: int
    sha256_b64: str
    ca_bundle: bool
    #: The byte-code's cache tag (``cpython-313``), or None when shipped without.
    bytecode: str | None = None


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


_VERSION_PROBE = "import sys; print(sys.implementation.cache_tag, *sys.version_info[:2])"


def _probe(python: str) -> tuple[str, str] | None:
    """(cache tag, "X.Y") of the interpreter ``python``, or None if it does not run."""
    try:
        done = subprocess.run(  # noqa: S603 - an interpreter path, run with a fixed probe
            [python, "-I", "-c", _VERSION_PROBE],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 3:
        return None
    return parts[0], f"{parts[1]}.{parts[2]}"


def _candidates(uv: str, python_version: str) -> list[str]:
    found: list[str] = []
    try:
        done = subprocess.run(  # noqa: S603 - uv with fixed arguments
            [uv, "python", "find", "--no-project", python_version],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if done.returncode == 0 and done.stdout.strip():
            found.append(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    on_path = shutil.which(f"python{python_version}")
    if on_path:
        found.append(on_path)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found += [str(p) for p in sorted(pyenv.glob(f"{python_version}.*/bin/python{python_version}"))]
    found.append(f"/usr/bin/python{python_version}")
    return found


def find_python(uv: str, python_version: str, given: str | None = None) -> tuple[str, str]:
    """An interpreter of ``python_version`` to compile with, and its cache tag."""
    candidates = [given] if given else _candidates(uv, python_version)
    for python in candidates:
        probed = _probe(python)
        if probed is not None and probed[1] == python_version:
            return python, probed[0]
        if given:
            raise SystemExit(
                f"error: --compile-python {given} is "
                + (f"Python {probed[1]}" if probed else "not a working interpreter")
                + f", not {python_version}: the byte-code must be the function's version's"
            )
    raise SystemExit(
        f"error: no Python {python_version} here to compile the byte-code with (tried uv python "
        f"find, python{python_version} on the PATH, pyenv, /usr/bin). Name one with "
        "--compile-python, or build without byte-code (--no-bytecode: slower cold starts, "
        "docs/lambda.md)."
    )


def compile_tree(python: str, site: Path) -> None:
    """Byte-compile every module under ``site`` with ``python``, reproducibly (see above)."""
    command = [python, "-I", "-m", "compileall", "-q", "-j", "0"]
    command += ["--invalidation-mode", "unchecked-hash", "-s", str(site), "-p", TASK_ROOT]
    done = subprocess.run(  # noqa: S603 - the interpreter found above, fixed arguments
        [*command, str(site)],
        check=False,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8"},
    )
    if done.returncode != 0:
        detail = (done.stdout + done.stderr).strip()
        raise SystemExit(f"error: compiling the byte-code with {python} failed: {detail}")


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
    bytecode: bool = True,
    compile_python: str | None = None,
) -> Package:
    platform = PLATFORMS[(arch, python_version)]
    # Find the interpreter first: failing after the download would waste it.
    python, tag = find_python(uv, python_version, compile_python) if bytecode else ("", None)
    site = build_tree(uv, work, platform=platform, python_version=python_version, pruned=PRUNED)
    if bytecode:
        compile_tree(python, site)
    bundle = find_ca_bundle(ca_bundle)
    if bundle is not None:
        check_ca_bundle(bundle)
    unzipped = write_zip(site, out, {CA_BUNDLE_NAME: bundle} if bundle else None)
    with zipfile.ZipFile(out) as zf:
        files = len(zf.infolist())
    return Package(
        out, out.stat().st_size, unzipped, files, sha256_b64(out), bundle is not None, tag
    )


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
    parser.add_argument(
        "--compile-python",
        help="the interpreter that compiles the byte-code; must be --python-version "
        "(default: uv python find, pythonX.Y on the PATH, a pyenv version)",
    )
    parser.add_argument(
        "--no-bytecode",
        dest="bytecode",
        action="store_false",
        help="ship no .pyc (Lambda then compiles every module at every cold start)",
    )
    args = parser.parse_args(argv)
    built = package(
        args.uv,
        args.out.resolve(),
        work=args.work.resolve(),
        ca_bundle=args.ca_bundle,
        arch=args.arch,
        python_version=args.python_version,
        bytecode=args.bytecode,
        compile_python=args.compile_python,
    )
    mib = 1024 * 1024
    print(f"package: {built.path} ({args.arch}, python{args.python_version})")
    print(f"  size:     {built.size / mib:.1f} MiB zipped, {built.unzipped / mib:.1f} MiB unzipped")
    print(f"            ({built.unzipped / LAMBDA_UNZIPPED_LIMIT:.0%} of Lambda's 250 MB limit)")
    print(f"  files:    {built.files}")
    print(f"  bytecode: {built.bytecode or 'none (--no-bytecode)'} (unchecked-hash .pyc)")
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
