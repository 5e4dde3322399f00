"""Do moto's Cognito tokens verify with the service's OIDC check? (Yes: ID and access.)

moto's server (on loopback) issues RS256 tokens for a user pool, serves the pool's
discovery document and JWKS under ``/<pool id>/.well-known/``, and names the real
issuer (``https://cognito-idp.<region>.amazonaws.com/<pool id>``) in them. The service is
configured with that issuer exactly as on AWS; its HTTP client routes the issuer's host to
the moto server (a transport that rewrites the host, not a mocked answer), and the
discovery document's ``jwks_uri`` already points there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from rms.app import create_app
from rms.auth import Authenticator
from rms.auth.oidc import OidcProvider
from rms.settings import load_settings
from tests.auth.conftest import client_of

PASSWORD = "Real-Passw0rd!x-long"


class _ToMoto(httpx.HTTPTransport):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = httpx.URL(base)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.base.scheme, host=self.base.host, port=self.base.port
        )
        request.headers["Host"] = f"{self.base.host}:{self.base.port}"
        return super().handle_request(request)


@pytest.fixture
def moto_pool() -> Iterator[dict[str, Any]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        idp = boto3.client(
            "cognito-idp",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pool = idp.create_user_pool(PoolName="rms-owner")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="browser", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"]
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="owner@example.com")
        idp.admin_set_user_password(
            UserPoolId=pool, Username="owner@example.com", Password=PASSWORD, Permanent=True
        )
        tokens = idp.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client_id,
            AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": "owner@example.com", "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        yield {
            "endpoint": endpoint,
            "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
            "client_id": client_id,
            "id_token": tokens["IdToken"],
            "access_token": tokens["AccessToken"],
        }
    finally:
        server.stop()


def test_moto_cognito_id_and_access_tokens_verify(moto_pool: dict[str, Any], tmp_path: Any) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'moto.db'}",
        auth_oidc_issuer=moto_pool["issuer"],
        auth_oidc_audience=moto_pool["client_id"],
    )
    http = httpx.Client(transport=_ToMoto(moto_pool["endpoint"]), timeout=5)
    provider = OidcProvider(settings, http=http)
    app = create_app(settings, authenticator=Authenticator(settings, oidc=provider))
    with client_of(app) as client:
        for kind in ("id_token", "access_token"):
            response = client.get(
                "/metrics", headers={"Authorization": f"Bearer {moto_pool[kind]}"}
            )
            assert response.status_code == 200, (kind, response.text)
    # For another app client, the same tokens are refused.
    other = load_settings(
        database_url=f"sqlite:///{tmp_path / 'moto.db'}",
        auth_oidc_issuer=moto_pool["issuer"],
        auth_oidc_audience="another-client",
    )
    provider = OidcProvider(other, http=httpx.Client(transport=_ToMoto(moto_pool["endpoint"])))
    app = create_app(other, authenticator=Authenticator(other, oidc=provider))
    with client_of(app) as client:
        for kind in ("id_token", "access_token"):
            response = client.get(
                "/metrics", headers={"Authorization": f"Bearer {moto_pool[kind]}"}
            )
            assert response.status_code == 401, kind
    http.close()
