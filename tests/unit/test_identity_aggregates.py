"""ApiKey, User and Session decide without I/O; every event reads well in an audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.access import KeyType, Permission
from domain.access_refusal import AccessRefusal
from domain.api_key import ApiKey, key_hash, key_id_for
from domain.envelope import EventContext
from domain.errors import AuthenticationRequired, InvalidArgument
from domain.session import Refreshed, Session, refresh_token_hash
from domain.user import User
from schemas.views import event_view
from services.api_keys import new_key

CTX = EventContext(actor="key:admin", tenant="acme", correlation_id="c", causation_id="req-1")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def issue(key: str, **extra: object) -> ApiKey:
    fields: dict[str, object] = {
        "name": "ci",
        "permissions": frozenset({Permission.RUNS_READ}),
        "expires_at": None,
        "ip": "10.0.0.7",
        "user_agent": "curl/8",
    }
    fields.update(extra)
    return ApiKey.issue(key=key, ctx=CTX, now=NOW, **fields)  # type: ignore[arg-type]


def test_a_key_is_kept_as_a_digest_with_32_random_bytes_behind_its_prefix() -> None:
    key = new_key(KeyType.LIVE)
    assert key.startswith("sk_live_") and len(key) - len("sk_live_") >= 43
    api_key = issue(key)
    (issued,) = api_key.collect_events()
    assert api_key.id == key_id_for(key)
    assert issued.key_hash == key_hash(key)  # type: ignore[attr-defined]
    assert key not in repr(issued) and key[8:] not in str(event_view(1, issued).data)
    assert issued.summary() == f"live key sk_live_…{key[-4:]} (ci) issued for tenant acme"
    assert event_view(1, issued).data["ip"] == "10.0.0.7"


@pytest.mark.parametrize(
    ("key", "permissions", "message"),
    [
        ("pk_live_" + "x" * 43, {Permission.RUNS_READ}, "starts with"),
        ("sk_live_short", {Permission.RUNS_READ}, "at least 32"),
        ("sk_test_" + "x" * 43, {Permission.RUNS_WRITE}, "cannot be given runs:write"),
        ("sk_live_" + "x" * 43, {Permission.KEYS_MANAGE}, "cannot be given keys:manage"),
    ],
)
def test_keys_that_cannot_be_are_refused(key: str, permissions: set[str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        issue(key, permissions=frozenset(permissions))


def test_revoking_twice_records_once() -> None:
    api_key = issue(new_key(KeyType.TEST))
    assert api_key.revoke(reason="leaked", ip="", user_agent="", ctx=CTX, now=NOW)
    assert not api_key.revoke(reason="again", ip="", user_agent="", ctx=CTX, now=NOW)
    events = api_key.collect_events()
    assert [e.type_name for e in events] == ["ApiKeyIssued", "ApiKeyRevoked"]
    assert events[-1].summary() == "key revoked: leaked"


def session() -> Session:
    return Session.begin(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        email="ann@example.com",
        token_hash=refresh_token_hash("rt-1"),
        ip="10.0.0.7",
        user_agent="cli",
        ctx=CTX,
        now=NOW,
    )


def refresh(s: Session, token: str, new: str, now: datetime = NOW) -> Refreshed:
    return s.refresh(
        presented_hash=refresh_token_hash(token),
        new_hash=refresh_token_hash(new),
        ip="10.0.0.9",
        user_agent="cli",
        ctx=CTX,
        now=now,
    )


def test_refresh_rotates_and_a_dead_token_revokes_the_family() -> None:
    s = session()
    assert refresh(s, "rt-1", "rt-2") is Refreshed.ROTATED
    assert refresh(s, "rt-2", "rt-3") is Refreshed.ROTATED
    assert refresh(s, "rt-1", "rt-x") is Refreshed.REUSED
    assert s.is_revoked and s.revoked_reason == "refresh_token_reused"
    with pytest.raises(AuthenticationRequired) as ended:
        refresh(s, "rt-3", "rt-4")  # the live one dies with its family
    assert ended.value.code == "session_revoked"
    types = [e.type_name for e in s.collect_events()]
    assert types == [
        "SessionStarted",
        "RefreshTokenRotated",
        "RefreshTokenRotated",
        "RefreshTokenReused",
        "SessionRevoked",
    ]


def test_unknown_and_expired_refresh_tokens_are_refused() -> None:
    s = session()
    with pytest.raises(AuthenticationRequired, match="unknown"):
        refresh(s, "rt-guess", "rt-2")
    with pytest.raises(AuthenticationRequired) as expired:
        refresh(s, "rt-1", "rt-2", now=NOW + timedelta(days=7, seconds=1))
    assert expired.value.code == "refresh_token_expired"


def test_users_and_refusals_read_well_and_hide_password_hashes() -> None:
    user = User.register(
        email=" Ann@Example.com ",
        name="Ann",
        roles=["operator"],
        permissions=frozenset(),
        password_hash="$argon2id$secret",
        ip="",
        user_agent="",
        ctx=CTX,
        now=NOW,
    )
    assert user.email == "ann@example.com" and Permission.RUNS_WRITE in user.permissions
    (registered,) = user.collect_events()
    assert event_view(1, registered).data["password_hash"] == "[redacted]"
    assert registered.summary() == "user ann@example.com registered in tenant acme (operator)"
    with pytest.raises(InvalidArgument):
        User.register(
            email="nobody",
            name="",
            roles=[],
            permissions=frozenset(),
            password_hash=None,
            ip="",
            user_agent="",
            ctx=CTX,
            now=NOW,
        )
    refusal = AccessRefusal.permission_denied(
        id=uuid.uuid4(),
        permission="keys:manage",
        action="POST /v1/keys",
        ip="10.0.0.7",
        user_agent="curl",
        ctx=CTX,
        now=NOW,
    )
    (denied,) = refusal.collect_events()
    assert denied.summary() == "key:admin denied POST /v1/keys: lacks keys:manage from 10.0.0.7"
