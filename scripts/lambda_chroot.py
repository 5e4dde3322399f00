"""A Debian root file system with a given Python, to run the Lambda zip on (``make package-test``).

Lambda's python3.12 and python3.13 runtimes run on Amazon Linux 2023 (glibc 2.34). Its image
cannot be fetched here, but Debian's can: Debian 13 (trixie) ships ``python3.13`` on glibc
2.41, so a zip whose wheels are ``manylinux_2_34`` loads there as on Lambda (a newer glibc
loads what an older one does). ``debootstrap`` builds the root once from deb.debian.org
(``--variant=minbase``, plus the ``python3.X`` package) and it is kept under
``.cache/lambda-runtime/`` (or ``$RMS_LAMBDA_CHROOT_DIR``); a later run reuses it. The zip's
files go to ``/var/task`` inside it, as on Lambda, and the interpreter is started with
``chroot``, so it sees nothing of this machine's Python or packages.

An arm64 root is built with ``debootstrap --foreign`` (packages unpacked, not configured,
which is all the interpreter needs) and run through ``qemu-aarch64-static`` copied into it,
invoked explicitly, so no binfmt_misc registration is needed.

Needs root (``debootstrap``, ``chroot``) and the ``debootstrap`` package
(``apt-get install debootstrap``; ``qemu-user-static`` for arm64).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "RMS_LAMBDA_CHROOT_DIR"
MIRROR = "http://deb.debian.org/debian"
SUITE = "trixie"
#: The Python of each Debian suite we use.
SUITE_PYTHON = {"trixie": "3.13"}
#: Lambda's architecture names -> Debian's.
DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
QEMU = {"arm64": "qemu-aarch64-static"}
READY = ".rms-ready"
TASK = "/var/task"


@dataclass(frozen=True)
class Chroot:
    path: Path
    arch: str
    python_version: str
    #: Run the interpreter through this emulator (inside the root), or natively.
    emulator: str | None = None

    @property
    def python(self) -> str:
        return f"/usr/bin/python{self.python_version}"

    def command(self, args: Sequence[str]) -> list[str]:
        """``chroot`` running ``python3.X args...`` in this root."""
        head = [self.emulator] if self.emulator else []
        return [
            shutil.which("chroot") or "/usr/sbin/chroot",
            str(self.path),
            *head,
            self.python,
            *args,
        ]


def cache_dir() -> Path:
    given = os.environ.get(CACHE_ENV)
    return Path(given) if given else ROOT / ".cache" / "lambda-runtime"


def host_arch() -> str:
    machine = os.uname().machine
    return {"aarch64": "arm64"}.get(machine, machine)


def debootstrap_command(
    target: Path, *, arch: str, python_version: str, foreign: bool
) -> list[str]:
    command = ["debootstrap", "--variant=minbase", f"--arch={DEBIAN_ARCH[arch]}"]
    command += [f"--include=python{python_version}"]
    if foreign:
        command.append("--foreign")
    return [*command, SUITE, str(target), MIRROR]


def ensure(arch: str, *, python_version: str | None = None, cache: Path | None = None) -> Chroot:
    """The cached root for ``arch``, built first if it is not there (or was left half-built)."""
    version = python_version or SUITE_PYTHON[SUITE]
    if SUITE_PYTHON[SUITE] != version:
        raise SystemExit(f"error: Debian {SUITE} has python{SUITE_PYTHON[SUITE]}, not {version}")
    base = cache or cache_dir()
    path = base / f"debian-{SUITE}-{DEBIAN_ARCH[arch]}"
    foreign = arch != host_arch()
    emulator = f"/usr/bin/{QEMU[arch]}" if foreign else None
    chroot = Chroot(path, arch, version, emulator)
    if (path / READY).is_file():
        return chroot
    for tool in ("debootstrap", "chroot", *([QEMU[arch]] if foreign else [])):
        if shutil.which(tool) is None:
            package = "qemu-user-static" if tool.startswith("qemu") else tool
            raise SystemExit(f"error: {tool} not found (apt-get install {package})")
    if os.geteuid() != 0:
        raise SystemExit("error: debootstrap and chroot need root")
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = debootstrap_command(partial, arch=arch, python_version=version, foreign=foreign)
    print(f"lambda-chroot: {' '.join(command)} (once; cached in {base})", file=sys.stderr)
    done = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"error: debootstrap failed:\n{(done.stdout + done.stderr)[-3000:]}")
    if foreign:
        qemu = shutil.which(QEMU[arch])
        assert qemu is not None
        shutil.copy2(qemu, partial / "usr" / "bin" / QEMU[arch])
    (partial / READY).write_text(" ".join(command) + "\n")
    shutil.rmtree(path, ignore_errors=True)
    partial.rename(path)
    return chroot


def install_task(chroot: Chroot, tree: Path) -> Path:
    """Copy the unpacked zip ``tree`` to ``/var/task`` in the root (replacing what was there)."""
    task = chroot.path / TASK.lstrip("/")
    shutil.rmtree(task, ignore_errors=True)
    shutil.copytree(tree, task, symlinks=True)
    return task


def run(
    chroot: Chroot,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    stdin: str = "",
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The root's Python with ``args``, ``/var/task`` first on its path, only ``env`` set."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    environment["LAMBDA_TASK_ROOT"] = TASK
    environment |= {"PYTHONPATH": TASK, "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run(  # noqa: S603 (our own fixed command)
        chroot.command(args),
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(DEBIAN_ARCH), default=host_arch())
    args = parser.parse_args(argv)
    chroot = ensure(args.arch)
    done = run(
        chroot, ["-c", "import platform, sys; print(sys.version, platform.libc_ver())"], env={}
    )
    print(f"{chroot.path}: {done.stdout.strip() or done.stderr.strip()}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
