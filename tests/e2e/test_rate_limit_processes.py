"""Two real `synaps api` processes on one database share every key's rate limit."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import pytest

from adapters.postgres.embedded import free_port
from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.e2e.processes import eventually, running, synaps

pytestmark = pytest.mark.e2e


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_61st_request_is_refused_across_two_api_processes(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "SYNAPS_DATABASE_URL": database_url,
        "SYNAPS_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "SYNAPS_JWT_SECRET": JWT_SECRET,
    }
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    with (
        running(synaps("api", "--port", str(ports[0]), env=env, log=tmp_path / "a.log")),
        running(synaps("api", "--port", str(ports[1]), env=env, log=tmp_path / "b.log")),
    ):
        for url in urls:
            eventually(lambda url=url: ready(url), timeout=60, what=f"{url} ready")
        headers = {"X-API-Key": ADMIN_KEY}
        statuses = []
        remaining = []
        for url in itertools.islice(itertools.cycle(urls), 61):
            r = httpx.get(f"{url}/v1/queue/stats", headers=headers, timeout=10)
            statuses.append(r.status_code)
            remaining.append(int(r.headers["ratelimit-remaining"]))
        assert statuses == [200] * 60 + [429], statuses
        assert remaining[:60] == list(range(59, -1, -1))
        assert int(r.headers["retry-after"]) >= 1
