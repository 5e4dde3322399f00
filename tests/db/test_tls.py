"""TLS against a real PostgreSQL with a certificate authority made for the test.

``verify-full`` must succeed with the right CA and host name and fail clearly (naming the
certificate problem) with a wrong CA or a host name the certificate does not cover.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from rms.db.connect import RetryPolicy
from rms.db.engine import create_db_engine
from rms.errors import ConfigError, DatabaseUnavailableError
from rms.settings import load_settings
from tests.db.pg_tls import TlsCluster, fixture_make_role, fixture_tls_cluster  # noqa: F401

# Certificate failures are not worth waiting out: a short budget keeps the tests fast.
FAST = RetryPolicy(budget_seconds=0.5, initial_backoff_seconds=0.05, sleep=lambda _s: None)


def _select_one(host: str, port: int, user: str, password: str, **env: object) -> object:
    settings = load_settings(
        db_host=host, db_port=port, db_name=user, db_user=user, db_password=password, **env
    )
    engine = create_db_engine(settings, policy=FAST)
    try:
        with engine.connect() as conn:
            ssl = conn.execute(text("select ssl from pg_stat_ssl where pid = pg_backend_pid()"))
            return ssl.scalar_one()
    finally:
        engine.dispose()


def test_verify_full_with_the_right_ca_and_host_name(
    tls_cluster: TlsCluster, make_role: Callable[[str], str]
) -> None:
    role = make_role("tls-pass-1")
    used_ssl = _select_one(
        "localhost",
        tls_cluster.port,
        role,
        "tls-pass-1",
        db_sslmode="verify-full",
        db_sslrootcert=str(tls_cluster.pki.ca),
    )
    assert used_ssl is True


def test_verify_full_is_the_default_for_a_remote_host_name() -> None:
    settings = load_settings(
        db_host="db.example.com", db_name="rms", db_user="rms", db_password="x-not-used"
    )
    assert settings.sslmode_for(settings.db_host) == "verify-full"


def test_wrong_ca_fails_clearly(tls_cluster: TlsCluster, make_role: Callable[[str], str]) -> None:
    role = make_role("tls-pass-2")
    with pytest.raises(DatabaseUnavailableError) as caught:  # 503, never a 500
        _select_one(
            "localhost",
            tls_cluster.port,
            role,
            "tls-pass-2",
            db_sslmode="verify-full",
            db_sslrootcert=str(tls_cluster.pki.wrong_ca),
        )
    assert "certificate verify failed" in str(caught.value)
    assert "DB_SSLROOTCERT" in str(caught.value)
    assert "tls-pass-2" not in str(caught.value)


def test_host_name_mismatch_fails_clearly(
    tls_cluster: TlsCluster, make_role: Callable[[str], str]
) -> None:
    role = make_role("tls-pass-3")
    with pytest.raises(DatabaseUnavailableError) as caught:  # 503, never a 500
        _select_one(
            "127.0.0.1",
            tls_cluster.port,
            role,
            "tls-pass-3",
            db_sslmode="verify-full",
            db_sslrootcert=str(tls_cluster.pki.ca),
        )
    message = str(caught.value)
    assert 'does not match host name "127.0.0.1"' in message


def test_plain_database_url_gets_the_tls_settings_too(
    tls_cluster: TlsCluster, make_role: Callable[[str], str]
) -> None:
    role = make_role("tls-pass-4")
    url = f"postgresql://{role}:tls-pass-4@localhost:{tls_cluster.port}/{role}"
    good = load_settings(
        database_url=url, db_sslmode="verify-full", db_sslrootcert=str(tls_cluster.pki.ca)
    )
    engine = create_db_engine(good, policy=FAST)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()
    bad = load_settings(
        database_url=url, db_sslmode="verify-full", db_sslrootcert=str(tls_cluster.pki.wrong_ca)
    )
    engine = create_db_engine(bad, policy=FAST)
    try:
        with (
            pytest.raises(DatabaseUnavailableError, match="certificate verify failed"),
            engine.connect(),
        ):
            pass
    finally:
        engine.dispose()


def test_missing_root_certificate_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError) as caught:
        load_settings(
            db_host="db.example.com",
            db_name="rms",
            db_user="rms",
            db_password="x-not-used",
            db_sslrootcert=str(missing),
        )
    assert "DB_SSLROOTCERT" in str(caught.value)
    assert "global-bundle.pem" in str(caught.value)
