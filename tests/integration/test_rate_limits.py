"""Rate limits in one process: per key and per role, RateLimit-* headers on every
answer, 429 with Retry-After, and the IP limit for requests without credentials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from synaps.bootstrap import Container, build
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY, settings_for_tests

pytestmark = pytest.mark.integration


@pytest.fixture
def limited(database_url: str) -> Iterator[Container]:
    container = build(
        settings_for_tests(
            database_url,
            bootstrap_admin_key=ADMIN_KEY,
            rate_limits_by_role="test=5/minute,50/hour",
            rate_limit_anonymous="10/minute,100/hour",
        )
    )
    yield container
    container.close()


def test_the_61st_request_in_a_minute_is_429_with_retry_after(limited: Container) -> None:
    with TestClient(api_app(limited)) as client:
        h = {"X-API-Key": ADMIN_KEY}
        answers = [client.get("/v1/queue/stats", headers=h) for _ in range(61)]
    assert [r.status_code for r in answers[:60]] == [200] * 60
    assert [int(r.headers["ratelimit-remaining"]) for r in answers[:3]] == [59, 58, 57]
    assert all(r.headers["ratelimit-limit"] == "60" for r in answers)
    assert 0 < int(answers[0].headers["ratelimit-reset"]) <= 60
    last = answers[60]
    assert last.status_code == 429
    assert last.json()["code"] == "rate_limited"
    assert last.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(last.headers["retry-after"]) <= 60
    assert last.headers["ratelimit-remaining"] == "0"


def test_limits_follow_the_role_and_each_key_counts_alone(limited: Container) -> None:
    with TestClient(api_app(limited)) as client:
        admin = {"X-API-Key": ADMIN_KEY}
        keys = [client.post("/v1/keys", json={"type": "test"}, headers=admin).json()["key"]]
        keys.append(client.post("/v1/keys", json={"type": "test"}, headers=admin).json()["key"])
        for key in keys:
            codes = [
                client.get("/v1/queue/stats", headers={"X-API-Key": key}).status_code
                for _ in range(6)
            ]
            assert codes == [200] * 5 + [429]
        r = client.get("/v1/queue/stats", headers={"X-API-Key": keys[0]})
        assert r.headers["ratelimit-limit"] == "5"


def test_requests_without_credentials_are_limited_by_ip(limited: Container) -> None:
    body: dict[str, Any] = {"email": "nobody@example.com", "password": "guess guess guess"}
    with TestClient(api_app(limited)) as client:
        codes = [client.post("/v1/auth/login", json=body).status_code for _ in range(11)]
        assert codes == [401] * 10 + [429]
        # the same IP is out of its allowance for anything unauthenticated
        assert client.get("/v1/runs/00000000-0000-0000-0000-000000000000").status_code == 429
        # but a key has its own allowance
        assert client.get("/v1/queue/stats", headers={"X-API-Key": ADMIN_KEY}).status_code == 200


def test_concurrent_requests_count_exactly_once_each(limited: Container) -> None:
    import threading

    from domain.rate_limits import Limit

    counter = limited.identity.rate_counter
    limits = (Limit(100, 60), Limit(1000, 3600))
    hits: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(25):
            counts = counter.hit("key:concurrent", limits)
            with lock:
                hits.append(counts[0].hits)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(hits) == list(range(1, 201))  # every request got its own count
    assert sum(1 for h in hits if h <= 100) == 100
