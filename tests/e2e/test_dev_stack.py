"""`synaps dev` end to end: embedded PostgreSQL, API and worker; HTTP and CLI; clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from adapters.postgres.embedded import free_port
from tests.e2e.processes import REPO, eventually, running, synaps

pytestmark = pytest.mark.e2e


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synaps", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def postgres_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in (proc.info["name"] or "") and str(data_dir) in cmdline:
            found.append(proc)
    return found


def test_dev_stack_serves_http_and_cli_then_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "stack"
    port = free_port()
    dev_file = data_dir / "dev.json"
    env = {"SYNAPS_BOOTSTRAP_ADMIN_KEY": "sk_admin_e2e_fixed_key_0123456789abcdef"}
    args = ("dev", "--data-dir", str(data_dir), "--port", str(port), "--no-demo")
    with running(synaps(*args, env=env, log=tmp_path / "dev.log")) as dev:
        eventually(dev_file.exists, timeout=60, what="dev.json")
        info = json.loads(dev_file.read_text())
        assert info["api_url"] == f"http://127.0.0.1:{port}"
        assert info["admin_key"] == env["SYNAPS_BOOTSTRAP_ADMIN_KEY"]
        assert info["database_url"].startswith("postgresql://")
        assert dev_file.stat().st_mode & 0o077 == 0, "dev.json holds a key: owner-only"
        url = info["api_url"]
        assert httpx.get(f"{url}/readyz").json()["checks"] == {"database": "ok", "workers": "ok"}

        # through HTTP
        submitted = httpx.post(
            f"{url}/v1/commands/submit",
            json={"kind": "noop", "input": {"via": "http"}},
            headers={"Idempotency-Key": "e2e-1"},
        )
        assert submitted.status_code == 201
        run_id = submitted.json()["run_id"]
        eventually(
            lambda: httpx.get(f"{url}/v1/runs/{run_id}").json()["status"] == "succeeded",
            what="the HTTP run",
        )
        replay = httpx.post(
            f"{url}/v1/commands/submit",
            json={"kind": "noop", "input": {"via": "http"}},
            headers={"Idempotency-Key": "e2e-1"},
        )
        assert replay.status_code == 200 and replay.json()["run_id"] == run_id

        # through the CLI
        done = cli(
            "submit", "sleep", "--input", '{"seconds": 0.2}', "--wait", "--json", "--url", url
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["run"]["status"] == "succeeded"
        assert result["run"]["output"] == {"slept": 0.2}
        assert [e["type"] for e in result["run"]["events"]] == [
            "CommandSubmitted",
            "ThreadStarted",
            "RunCreated",
            "TaskQueued",
            "TaskClaimed",
            "TaskSucceeded",
            "RunSucceeded",
        ]
        shown = cli("runs", "get", run_id, "--url", url)
        assert shown.returncode == 0 and "succeeded" in shown.stdout
        bad = cli("submit", "noop", "--input", "{oops", "--url", url)
        assert bad.returncode == 2 and "not valid JSON" in bad.stderr
        missing = cli("runs", "get", "00000000-0000-0000-0000-000000000000", "--url", url)
        assert missing.returncode == 1
        assert missing.stderr.strip().startswith("error:") and "not found" in missing.stderr
        unreachable = cli("runs", "get", run_id, "--url", "http://127.0.0.1:9")
        assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr

        assert postgres_of(data_dir), "the embedded server runs in the data dir"
        dev.send_signal(signal.SIGINT)
        assert dev.wait(60) == 0
    assert postgres_of(data_dir) == [], "no orphaned postgres after Ctrl-C"
