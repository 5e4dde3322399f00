"""``make package``: the zip is reproducible, leaves out what it should, and runs.

The full build downloads the locked wheels from PyPI (uv's cache makes the second build
local); it runs twice into different work directories and compares the bytes. The zip is
then unpacked and the real handler invoked from it, in an isolated interpreter that sees
nothing but the zip's files (on an x86_64 machine, which can load its x86_64 wheels).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".venv-tools" / "bin" / "uv"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "package_lambda", ROOT / "scripts" / "package_lambda.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["package_lambda"] = module
    spec.loader.exec_module(module)
    return module


pkg = _script()


def _tree(root: Path, order: list[str], mtime: int) -> Path:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")
        os.utime(path, (mtime, mtime))
    (root / "tool.sh").chmod(0o755)
    return root


def test_the_zip_does_not_depend_on_times_or_order(tmp_path: Path) -> None:
    names = ["b/mod.py", "a/__init__.py", "tool.sh", "a/z.txt"]
    one = _tree(tmp_path / "one", names, 1_000_000)
    two = _tree(tmp_path / "two", list(reversed(names)), 2_000_000)
    pkg.write_zip(one, tmp_path / "one.zip")
    pkg.write_zip(two, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(names)
    assert {i.date_time for i in infos} == {pkg.ZIP_EPOCH}
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["tool.sh"] == 0o755 and modes["a/z.txt"] == 0o644


def test_strip_removes_caches_scripts_and_build_traces(tmp_path: Path) -> None:
    keep = ["pkg/__init__.py", "pkg-1.0.dist-info/METADATA", "pkg/RECORD"]
    drop = [
        "pkg/__pycache__/x.cpython-311.pyc",
        "pkg/old.pyc",
        "bin/rms",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.dist-info/direct_url.json",
        "pkg-1.0.dist-info/uv_cache.json",
    ]
    for name in keep + drop:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    pkg.strip(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(keep)


def _magic(python: str) -> bytes:
    done = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return bytes.fromhex(done.stdout)


def _pycs(site: Path, tag: str) -> dict[str, bytes]:
    """Each module's .pyc under ``site`` for ``tag``, by the module's relative path."""
    out = {}
    for source in sorted(site.rglob("*.py")):
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        out[source.relative_to(site).as_posix()] = pyc.read_bytes() if pyc.is_file() else b""
    return out


def _module_tree(root: Path, mtime: int) -> Path:
    files = {
        "pkg/__init__.py": "KINDS = {'alpha', 'beta', 'gamma', 'delta'}\n",
        "pkg/mod.py": "def f(x):\n    return x in {'one', 'two', 'three'}\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        os.utime(root / name, (mtime, mtime))
    return root


def test_the_bytecode_is_reproducible_unchecked_and_names_var_task(tmp_path: Path) -> None:
    one = _module_tree(tmp_path / "one", 1_000_000)
    two = _module_tree(tmp_path / "work" / "two", 2_000_000)
    pkg.compile_tree(sys.executable, one)
    pkg.compile_tree(sys.executable, two)
    tag = sys.implementation.cache_tag
    first, second = _pycs(one, tag), _pycs(two, tag)
    assert first == second and all(first.values()), first.keys()
    header = first["pkg/mod.py"][:16]
    # PEP 552: the version's magic, then flags 0b01: hash-based, source not checked.
    assert header[:4] == _magic(sys.executable)
    assert int.from_bytes(header[4:8], "little") == 0b01
    # The paths inside are where Lambda unpacks the zip, not this build's directory.
    assert b"/var/task/pkg/mod.py" in first["pkg/mod.py"]
    assert str(tmp_path).encode() not in first["pkg/mod.py"]


def test_the_compiling_interpreter_must_be_the_functions_version(tmp_path: Path) -> None:
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    python, tag = pkg.find_python(str(UV), here, sys.executable)
    assert (python, tag) == (sys.executable, sys.implementation.cache_tag)
    other = "3.12" if here != "3.12" else "3.13"
    with pytest.raises(SystemExit, match=f"is Python {here}, not {other}"):
        pkg.find_python(str(UV), other, sys.executable)
    with pytest.raises(SystemExit, match="not a working interpreter"):
        pkg.find_python(str(UV), other, str(tmp_path / "python-nowhere"))


def test_a_ca_bundle_must_be_pem(tmp_path: Path) -> None:
    fake = tmp_path / "bundle.pem"
    fake.write_text("not a certificate")
    with pytest.raises(SystemExit, match="not a PEM"):
        pkg.check_ca_bundle(fake)


def _tf_default(path: str, variable: str) -> str:
    text = (ROOT / path).read_text()
    block = text[text.index(f'variable "{variable}" {{') :]
    match = re.search(r'^  default\s*=\s*"([^"]+)"', block, re.MULTILINE)
    assert match is not None, f"{path}: {variable} has no default"
    return match.group(1)


def test_make_package_builds_for_the_runtime_and_architecture_infra_deploys() -> None:
    makefile = (ROOT / "Makefile").read_text()
    arch = re.search(r"^LAMBDA_ARCH\s*\?=\s*(\S+)", makefile, re.MULTILINE)
    python = re.search(r"^LAMBDA_PYTHON\s*\?=\s*(\S+)", makefile, re.MULTILINE)
    assert arch is not None and python is not None
    assert (arch.group(1), python.group(1)) == (pkg.DEFAULT_ARCH, pkg.DEFAULT_PYTHON)
    assert (pkg.DEFAULT_ARCH, pkg.DEFAULT_PYTHON) == ("arm64", "3.13")
    assert pkg.PLATFORMS[("arm64", "3.13")] == "aarch64-manylinux_2_34"
    service = "infra/modules/service/variables.tf"
    assert _tf_default(service, "architecture") == pkg.DEFAULT_ARCH
    assert _tf_default(service, "runtime") == f"python{pkg.DEFAULT_PYTHON}"
    for env in ("dev", "prod"):
        variables = f"infra/environments/{env}/variables.tf"
        assert _tf_default(variables, "service_architecture") == pkg.DEFAULT_ARCH
        assert _tf_default(variables, "service_runtime") == f"python{pkg.DEFAULT_PYTHON}"


_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def test_every_docstring_has_a_utf8_form() -> None:
    # Python 3.13 dedents docstrings as it compiles a module, through their UTF-8 form: a
    # lone surrogate in one (an unescaped backslash-u-d800) made rms.api.schemas fail to
    # import on python3.13 (make package-test found it) while 3.11 compiled it.
    bad = []
    for path in sorted((ROOT / "src" / "rms").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            doc = ast.get_docstring(node, clean=False) if isinstance(node, _DOCUMENTED) else None
            try:
                (doc or "").encode("utf-8")
            except UnicodeEncodeError:
                bad.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}")
    assert bad == []


_INVOKE = """
import json, sys
sys.path[:] = [p for p in sys.path if "site-packages" not in p]
from rms.schema.migrations import upgrade
from rms.db.engine import create_db_engine
from rms.settings import load_settings
engine = create_db_engine(load_settings())
upgrade(engine)
engine.dispose()
from rms.lambda_handler import handler
event = json.loads(sys.stdin.read())
reply = handler(event, None)
try:
    import matplotlib  # noqa: F401
    plots = True
except ImportError:
    plots = False
import rms
print(json.dumps({"status": reply["statusCode"], "plots": plots, "rms": rms.__file__}))
"""


@pytest.mark.slow
def test_make_package_is_reproducible_and_the_zip_runs(tmp_path: Path) -> None:
    # x86_64 and python3.11, the older runtime (still possible): what this machine's
    # interpreter can import. make package-test runs the default runtime's Python.
    older = {"arch": "x86_64", "python_version": "3.11"}
    # The byte-code is compiled by this interpreter (3.11) for the 3.11 runtime.
    older = {**older, "compile_python": sys.executable}
    first = pkg.package(str(UV), tmp_path / "a" / "rms-lambda.zip", work=tmp_path / "wa", **older)
    second = pkg.package(str(UV), tmp_path / "b" / "rms-lambda.zip", work=tmp_path / "wb", **older)
    assert first.sha256_b64 == second.sha256_b64
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.unzipped < pkg.LAMBDA_UNZIPPED_LIMIT
    assert first.bytecode == "cpython-311"
    with zipfile.ZipFile(first.path) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "task")
    assert "rms/lambda_handler.py" in names and "mangum/adapter.py" in names
    assert not [n for n in names if n.startswith(("bin/", "tests/"))]
    # Every module has its byte-code, for the runtime's version only, unchecked-hash.
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(re.fullmatch(r"(.+/)?__pycache__/[^/]+\.cpython-311\.pyc", n) for n in pycs)
    expected = {
        re.sub(r"(^|/)([^/]+)\.py$", r"\1__pycache__/\2.cpython-311.pyc", n)
        for n in names
        if n.endswith(".py")
    }
    missing = sorted(expected - set(pycs))
    assert missing == []
    handler = (tmp_path / "task/rms/__pycache__/lambda_handler.cpython-311.pyc").read_bytes()
    assert handler[:4] == _magic(sys.executable)
    assert int.from_bytes(handler[4:8], "little") == 0b01
    assert not [n for n in names if n.startswith(("matplotlib/", "numpy/"))]
    if platform.machine() != "x86_64":
        pytest.skip("the x86_64 wheels load on an x86_64 machine only")
    from tests.lambda_handler.events import HOST, PUBLIC_URL, http_event

    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(tmp_path / "task"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'task.db'}",
        "RMS_STATE_DIR": str(tmp_path / "state"),
        "RMS_PUBLIC_URL": PUBLIC_URL,
        "RMS_API_TOKEN": "package-test-token-0123456789abc",
    }
    event = http_event(
        "GET", "/api/accounts", headers={"Authorization": f"Bearer {env['RMS_API_TOKEN']}"}
    )
    assert event["headers"]["host"] == HOST
    done = subprocess.run(
        [sys.executable, "-S", "-c", _INVOKE],
        input=json.dumps(event),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "status": 200,
        "plots": False,
        "rms": str(tmp_path / "task" / "rms" / "__init__.py"),
    }
