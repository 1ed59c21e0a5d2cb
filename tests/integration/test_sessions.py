"""Users over HTTP: login, refresh rotation and reuse detection, logout, password change,
expired and forged access tokens, and an external OIDC issuer's tokens."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from litestar.testing import TestClient

from synaps.bootstrap import Container, build
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY, settings_for_tests
from tests.integration.identity_fixtures import events_of

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"


@pytest.fixture
def client(container: Container, admin_key: str) -> Iterator[TestClient[Any]]:
    # https: the refresh cookie is Secure, so a client sends it back over TLS only
    with TestClient(api_app(container), base_url="https://testserver.local") as c:
        r = c.post(
            "/v1/users",
            json={"email": "ann@example.com", "password": PASSWORD, "roles": ["operator"]},
            headers={"X-API-Key": admin_key},
        )
        assert r.status_code == 201, r.text
        yield c


def login(client: TestClient[Any], password: str = PASSWORD) -> dict[str, Any]:
    r = client.post("/v1/auth/login", json={"email": "Ann@example.com", "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def whoami(client: TestClient[Any], token: str) -> int:
    return client.get("/v1/auth/whoami", headers=bearer(token)).status_code


def test_login_gives_an_access_token_and_a_refresh_cookie(
    client: TestClient[Any], database_url: str
) -> None:
    r = client.post("/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    pair = r.json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    cookie = r.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/v1/auth", "Max-Age=604800"):
        assert attribute in cookie
    claims = json.loads(base64.urlsafe_b64decode(pair["access_token"].split(".")[1] + "=="))
    assert {"sub", "email", "tenant", "roles", "permissions", "exp", "jti"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 900
    me = client.get("/v1/auth/whoami", headers=bearer(pair["access_token"])).json()
    assert me["actor"] == "user:ann@example.com" and me["kind"] == "user"
    submitted = client.post(
        "/v1/commands/submit", json={"kind": "noop"}, headers=bearer(pair["access_token"])
    )
    assert submitted.status_code == 201
    (started,) = events_of(database_url, "SessionStarted")
    assert started["ip"] == "testclient" and started["user_agent"] == "testclient"


def test_wrong_passwords_and_unknown_users_are_401_and_recorded(
    client: TestClient[Any], database_url: str
) -> None:
    for body in (
        {"email": "ann@example.com", "password": "not the password"},
        {"email": "nobody@example.com", "password": "whatever it is"},
    ):
        r = client.post("/v1/auth/login", json=body)
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    failures = events_of(database_url, "AuthenticationFailed")
    assert [(e["reason"], e["credential"]) for e in failures] == [
        ("invalid_credentials", "ann@example.com"),
        ("invalid_credentials", "nobody@example.com"),
    ]
    assert failures[0]["tenant"] == "default" and failures[0]["ip"] == "testclient"


def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: TestClient[Any], database_url: str
) -> None:
    first = login(client)
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert whoami(client, rotated["access_token"]) == 200
    # the old refresh token is dead: presenting it again revokes the family
    again = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and again.json()["code"] == "refresh_token_reused"
    newest = client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert newest.status_code == 401 and newest.json()["code"] == "session_revoked"
    assert whoami(client, rotated["access_token"]) == 401
    assert whoami(client, first["access_token"]) == 401
    (reused,) = events_of(database_url, "RefreshTokenReused")
    assert reused["ip"] == "testclient"
    (revoked,) = events_of(database_url, "SessionRevoked")
    assert revoked["reason"] == "refresh_token_reused"


def test_the_cookie_refreshes_too_and_garbage_is_401(client: TestClient[Any]) -> None:
    login(client)  # the test client keeps the cookie
    assert client.post("/v1/auth/refresh").status_code == 200
    client.cookies.clear()
    assert client.post("/v1/auth/refresh").json()["code"] == "missing_refresh_token"
    forged = "rt_" + "0" * 32 + "_" + "A" * 43
    assert client.post("/v1/auth/refresh", json={"refresh_token": forged}).status_code == 401


def test_logout_ends_the_session_and_its_access_tokens(client: TestClient[Any]) -> None:
    pair = login(client)
    r = client.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204
    assert whoami(client, pair["access_token"]) == 401
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401
    # with the access token only
    other = login(client)
    client.cookies.clear()
    assert client.post("/v1/auth/logout", headers=bearer(other["access_token"])).status_code == 204
    assert whoami(client, other["access_token"]) == 401


def test_a_password_change_revokes_every_session(
    client: TestClient[Any], database_url: str
) -> None:
    laptop, phone = login(client), login(client)
    r = client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "an even longer password"},
        headers=bearer(laptop["access_token"]),
    )
    assert r.status_code == 204, r.text
    assert whoami(client, laptop["access_token"]) == 401
    assert whoami(client, phone["access_token"]) == 401
    r = client.post("/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert r.status_code == 401
    assert whoami(client, login(client, "an even longer password")["access_token"]) == 200
    reasons = [e["reason"] for e in events_of(database_url, "SessionRevoked")]
    assert reasons == ["password_changed", "password_changed"]
    (changed,) = events_of(database_url, "UserPasswordChanged")
    assert changed["password_hash"].startswith("$argon2id$")  # in the ledger, hashed


def test_expired_and_forged_access_tokens_are_401(
    client: TestClient[Any], container: Container
) -> None:
    pair = login(client)
    header, payload, signature = pair["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))

    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
    cases = {
        "expired": jwt.encode(
            {"alg": "HS256", "kid": kid},
            {**claims, "iat": claims["iat"] - 3600, "exp": claims["exp"] - 3600},
            container.identity.tokens.signing_keys.active,  # type: ignore[union-attr]
        ),
        "unknown kid": jwt.encode(
            {"alg": "HS256", "kid": "nope"},
            claims,
            OctKey.import_key("x" * 40, {"kid": "nope"}),
        ),
        "alg none": f"{enc({'alg': 'none', 'kid': kid})}.{payload}.",
        "tampered": f"{header}.{enc({**claims, 'tenant': 'globex'})}.{signature}",
    }
    for name, token in cases.items():
        r = client.get("/v1/auth/whoami", headers=bearer(token))
        assert r.status_code == 401, name
        expected = "token_expired" if name == "expired" else "invalid_token"
        assert r.json()["code"] == expected, name


def test_a_disabled_user_is_out_at_once(client: TestClient[Any], admin_key: str) -> None:
    pair = login(client)
    users = client.get("/v1/users", headers={"X-API-Key": admin_key}).json()["users"]
    r = client.post(
        f"/v1/users/{users[0]['user_id']}/disable",
        json={"reason": "left"},
        headers={"X-API-Key": admin_key},
    )
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert whoami(client, pair["access_token"]) == 401
    fresh = client.post("/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert fresh.status_code == 401


class _Jwks(BaseHTTPRequestHandler):
    document: bytes = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args: object) -> None:
        pass


def test_an_external_issuers_tokens_are_accepted(database_url: str) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "idp-1", "alg": "RS256"}, private=True)
    _Jwks.document = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    server = HTTPServer(("127.0.0.1", 0), _Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = "https://idp.example.com"
    container = build(
        settings_for_tests(
            database_url,
            oidc_issuer=issuer,
            oidc_jwks_url=f"http://127.0.0.1:{server.server_port}/jwks",
            oidc_audience="synaps",
        )
    )
    container.identity.keys.ensure_bootstrap_key(ADMIN_KEY)
    now = int(time.time())
    claims = {"iss": issuer, "aud": "synaps", "sub": "idp|42", "email": "bob@example.com",
              "tenant": "acme", "roles": ["viewer"], "iat": now, "exp": now + 300}  # fmt: skip
    try:
        with TestClient(api_app(container)) as c:
            token = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, key)
            me = c.get("/v1/auth/whoami", headers=bearer(token)).json()
            assert me["actor"] == "external:bob@example.com" and me["tenant"] == "acme"
            assert "runs:read" in me["permissions"] and "runs:write" not in me["permissions"]
            write = c.post("/v1/commands/submit", json={"kind": "noop"}, headers=bearer(token))
            assert write.status_code == 403
            for bad in (
                {**claims, "aud": "another"},
                {**claims, "exp": now - 60},
                {k: v for k, v in claims.items() if k != "tenant"},
            ):
                forged = jwt.encode({"alg": "RS256", "kid": "idp-1"}, bad, key)
                assert c.get("/v1/auth/whoami", headers=bearer(forged)).status_code == 401
            stranger = RSAKey.generate_key(2048, parameters={"kid": "idp-1"}, private=True)
            forged = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, stranger)
            assert c.get("/v1/auth/whoami", headers=bearer(forged)).status_code == 401
    finally:
        container.close()
        server.shutdown()
        server.server_close()
