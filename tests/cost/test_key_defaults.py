"""The cost model's keys follow what infra/ deploys (issue 30): infra/testing/consistency.py.

``rms cost estimate --stack`` prices AWS-managed keys by default because the Terraform
environments deploy them by default. The key rules of infra/testing/consistency.py (run by
``make infra-check``) hold on the tree, and fail when either side changes alone.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from rms.cost.stack import CUSTOMER_MANAGED_KMS_KEYS, DEPLOYED_KMS_KEYS, StackProfile

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COST_MODEL = REPO / "src/rms/cost/stack.py"


def _consistency() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "infra_consistency", INFRA / "testing/consistency.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of infra/'s Terraform roots and of the cost model, to break one at a time."""
    infra = tmp_path / "infra"
    for sub in ("modules", "environments"):
        shutil.copytree(
            INFRA / sub, infra / sub, ignore=shutil.ignore_patterns(".terraform*", "tests")
        )
    model = tmp_path / "stack.py"
    shutil.copy(COST_MODEL, model)
    return infra, model


def _failed(infra: Path, model: Path) -> list[str]:
    return [text for ok, text in _consistency().key_rules(infra, model) if not ok]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _set_default(path: Path, variable: str, old: str, new: str) -> None:
    """Change the default of ``variable`` in ``path`` from ``old`` to ``new``."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r'variable "' + variable + r'" \{.*?\n\}', text, re.S)
    assert block is not None and f"default     = {old}" in block.group(0)
    changed = block.group(0).replace(f"default     = {old}", f"default     = {new}")
    path.write_text(text.replace(block.group(0), changed), encoding="utf-8")


def test_the_model_prices_no_customer_key_by_default() -> None:
    assert DEPLOYED_KMS_KEYS == 0 and StackProfile().kms_keys == DEPLOYED_KMS_KEYS
    assert CUSTOMER_MANAGED_KMS_KEYS == 1


def test_key_rules_hold_on_the_tree() -> None:
    assert _failed(INFRA, COST_MODEL) == []


def test_a_terraform_default_changed_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _set_default(infra / "environments/dev/variables.tf", "customer_managed_key", "false", "true")
    failed = _failed(infra, model)
    assert any("defaults to false" in f and "environments/dev" in f for f in failed), failed
    # The cost model, still at 0 keys, no longer prices what dev deploys.
    assert any(f.startswith("cost model") for f in failed), failed


def test_the_cost_model_changed_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _edit(model, "DEPLOYED_KMS_KEYS = 0", "DEPLOYED_KMS_KEYS = 1")
    failed = _failed(infra, model)
    assert len(failed) == 1 and failed[0].startswith("cost model"), failed


def test_a_database_module_not_given_the_switch_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _edit(
        infra / "environments/prod/main.tf",
        "  customer_managed_key             = var.customer_managed_key\n",
        "",
    )
    failed = _failed(infra, model)
    assert len(failed) == 1 and "pass customer_managed_key" in failed[0], failed


def test_a_second_key_by_default_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _set_default(infra / "modules/monitoring/variables.tf", "create_kms_key", "false", "true")
    failed = _failed(infra, model)
    assert len(failed) == 1 and "no other key by default" in failed[0], failed


def test_the_script_exits_1_on_a_broken_rule(
    tree: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    infra, model = tree
    consistency = _consistency()
    # The version rules need a versions.tf per root and prod's backend example: all copied.
    shutil.copy(INFRA / "environments/prod/backend.hcl.example", infra / "environments/prod/")
    assert consistency.main([str(infra), "--cost-model", str(model)]) == 0
    _edit(model, "CUSTOMER_MANAGED_KMS_KEYS = 1", "CUSTOMER_MANAGED_KMS_KEYS = 2")
    assert consistency.main([str(infra), "--cost-model", str(model)]) == 1
    assert "FAIL  cost model" in capsys.readouterr().out


# The function's platform: the cost model prices the architecture and runtime infra/ deploys.


def _lambda_failed(infra: Path, model: Path) -> list[str]:
    return [text for ok, text in _consistency().lambda_rules(infra, model) if not ok]


def test_the_model_prices_arm64_on_python313_by_default() -> None:
    from rms.cost.stack import DEPLOYED_LAMBDA_ARCHITECTURE, DEPLOYED_LAMBDA_RUNTIME

    assert (DEPLOYED_LAMBDA_ARCHITECTURE, DEPLOYED_LAMBDA_RUNTIME) == ("arm64", "python3.13")
    profile = StackProfile()
    assert (profile.lambda_architecture, profile.lambda_runtime) == ("arm64", "python3.13")


def test_lambda_rules_hold_on_the_tree() -> None:
    assert _lambda_failed(INFRA, COST_MODEL) == []


def test_a_terraform_architecture_changed_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _set_default(
        infra / "environments/prod/variables.tf", "service_architecture", '"arm64"', '"x86_64"'
    )
    failed = _lambda_failed(infra, model)
    assert len(failed) == 2, failed
    assert "one default architecture" in failed[0] and "x86_64" in failed[0], failed
    assert failed[1].startswith("cost model") and "architecture" in failed[1], failed


def test_every_terraform_runtime_changed_together_still_needs_the_model(
    tree: tuple[Path, Path],
) -> None:
    infra, model = tree
    _set_default(infra / "modules/service/variables.tf", "runtime", '"python3.13"', '"python3.12"')
    for env in ("dev", "prod"):
        _set_default(
            infra / f"environments/{env}/variables.tf",
            "service_runtime",
            '"python3.13"',
            '"python3.12"',
        )
    failed = _lambda_failed(infra, model)
    assert len(failed) == 1 and "DEPLOYED_LAMBDA_RUNTIME = python3.13" in failed[0], failed
    assert "Terraform default: python3.12" in failed[0], failed
    _edit(model, 'DEPLOYED_LAMBDA_RUNTIME = "python3.13"', 'DEPLOYED_LAMBDA_RUNTIME = "python3.12"')
    assert _lambda_failed(infra, model) == []


def test_the_model_architecture_changed_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _edit(
        model, 'DEPLOYED_LAMBDA_ARCHITECTURE = "arm64"', 'DEPLOYED_LAMBDA_ARCHITECTURE = "x86_64"'
    )
    failed = _lambda_failed(infra, model)
    assert len(failed) == 1 and "DEPLOYED_LAMBDA_ARCHITECTURE = x86_64" in failed[0], failed


def test_a_profile_default_that_leaves_the_constant_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _edit(
        model,
        "lambda_architecture: str = DEPLOYED_LAMBDA_ARCHITECTURE",
        'lambda_architecture: str = "x86_64"',
    )
    failed = _lambda_failed(infra, model)
    assert len(failed) == 1 and "StackProfile.lambda_architecture = x86_64" in failed[0], failed


def test_snapstart_on_by_default_in_terraform_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _set_default(infra / "modules/service/variables.tf", "snapstart", "false", "true")
    failed = _lambda_failed(infra, model)
    assert len(failed) == 1 and failed[0].startswith("SnapStart off by default"), failed
    assert "'modules/service.snapstart': 'true'" in failed[0], failed


def test_snapstart_on_by_default_in_the_model_alone_fails(tree: tuple[Path, Path]) -> None:
    infra, model = tree
    _edit(model, "DEPLOYED_SNAPSTART = False", "DEPLOYED_SNAPSTART = True")
    failed = _lambda_failed(infra, model)
    assert len(failed) == 1 and "StackProfile.snapstart = True" in failed[0], failed
