"""Package names imported on first use: the right object, and a clear error for a wrong name."""

from __future__ import annotations

import pytest

from rms.lazy import attribute_from


def test_a_name_comes_from_its_home_module() -> None:
    from rms.transfer.spec import table_specs

    homes = {"table_specs": "rms.transfer.spec"}
    assert attribute_from("rms.example", homes, "table_specs") is table_specs


def test_an_unknown_name_is_an_attribute_error_naming_package_and_name() -> None:
    with pytest.raises(AttributeError, match=r"module 'rms\.example' has no attribute 'nothing'"):
        attribute_from("rms.example", {}, "nothing")


def test_the_db_and_migrate_packages_answer_through_it() -> None:
    import rms.db
    import rms.migrate
    from rms.db.build import build_database
    from rms.migrate.plan import preflight

    assert rms.db.build_database is build_database
    assert rms.migrate.preflight is preflight
    with pytest.raises(AttributeError, match=r"module 'rms\.db' has no attribute 'nothing'"):
        _ = rms.db.nothing  # type: ignore[attr-defined]
