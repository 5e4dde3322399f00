"""Fixtures: a PostgreSQL cluster with TLS and password authentication; AWS mocked by moto.

Import the ``fixture_*`` functions into a test module to use them (they are registered
under the names ``tls_cluster``, ``make_role`` and ``aws``).

The cluster accepts TCP connections only over TLS (``hostssl``), with a server certificate
for ``localhost`` signed by a certificate authority made for the run. The superuser logs
in without a password (to set up and rotate roles); every other role needs its scram
password. Its log goes to a file, so the test output stays quiet.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import mock_aws

from rms.devtools.pgcluster import PgCluster

REGION = "us-east-1"


@dataclass(frozen=True)
class Pki:
    ca: Path
    wrong_ca: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True)
class TlsCluster:
    cluster: PgCluster
    pki: Pki

    @property
    def port(self) -> int:
        return self.cluster.port

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="postgres",
            sslmode="require",
            autocommit=True,
        )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for DNS:localhost only (no IP), and an unrelated CA."""
    ca_cert, ca_key = _ca("rms test CA")
    wrong_cert, _ = _ca("rms wrong CA")
    server_key = _key()
    now = dt.datetime.now(dt.UTC)
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pki = Pki(
        ca=directory / "ca.pem",
        wrong_ca=directory / "wrong-ca.pem",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
    )
    pki.ca.write_bytes(ca_cert.public_bytes(pem))
    pki.wrong_ca.write_bytes(wrong_cert.public_bytes(pem))
    pki.server_cert.write_bytes(server_cert.public_bytes(pem))
    pki.server_key.write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    # PostgreSQL insists on a private key only its owner can read.
    pki.server_key.chmod(0o600)
    if os.geteuid() == 0:
        for path in (directory, pki.server_cert, pki.server_key):
            shutil.chown(path, "postgres", "postgres")
    return pki


@pytest.fixture(scope="session", name="tls_cluster")
def fixture_tls_cluster() -> Iterator[TlsCluster]:
    """A cluster with ssl=on, hostssl-only access and scram passwords for non-superusers."""
    certs = Path(tempfile.mkdtemp(prefix="rms-tls-"))
    certs.chmod(0o755)
    pki = make_pki(certs)
    cluster = PgCluster(
        extra_conf={
            "ssl": "on",
            "ssl_cert_file": f"'{pki.server_cert}'",
            "ssl_key_file": f"'{pki.server_key}'",
            "password_encryption": "'scram-sha-256'",
            "log_min_messages": "fatal",
            "log_connections": "off",
        }
    )
    cluster.start()
    try:
        (cluster.data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all postgres 127.0.0.1/32 trust\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        cluster.restart()
        yield TlsCluster(cluster, pki)
    finally:
        cluster.stop()
        shutil.rmtree(certs, ignore_errors=True)


@pytest.fixture(name="make_role")
def fixture_make_role(tls_cluster: TlsCluster) -> Iterator[Callable[[str], str]]:
    """Creates a login role with a password (and its own database); returns the role name."""
    made: list[str] = []

    def make(password: str) -> str:
        name = f"rms_{len(made)}_{os.urandom(4).hex()}"
        with tls_cluster.admin() as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
            conn.execute(f"CREATE DATABASE {name} OWNER {name}")
        made.append(name)
        return name

    yield make
    with tls_cluster.admin() as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture(name="aws")
def fixture_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], boto3.session.Session]]:
    """moto for every AWS call in the test; yields a session factory bound to it."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield lambda: boto3.session.Session(region_name=REGION)
