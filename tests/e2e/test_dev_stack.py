"""`synaps dev` end to end: embedded PostgreSQL, API and worker; HTTP and CLI; clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from adapters.postgres.embedded import free_port
from tests.e2e.processes import REPO, eventually, running, synaps

pytestmark = pytest.mark.e2e


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synaps", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        env={**os.environ, **(env or {})},
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
    env = {"SYNAPS_BOOTSTRAP_ADMIN_KEY": "sk_admin_e2e_fixed_key_0123456789abcdef0123456789"}
    # the CLI's config file lives here, and it sends the admin key unless told otherwise
    as_admin = {
        "SYNAPS_CONFIG_DIR": str(tmp_path / "cli"),
        "SYNAPS_API_KEY": env["SYNAPS_BOOTSTRAP_ADMIN_KEY"],
    }
    args = ("dev", "--data-dir", str(data_dir), "--port", str(port), "--no-demo")
    with running(synaps(*args, env=env, log=tmp_path / "dev.log")) as dev:
        eventually(dev_file.exists, timeout=60, what="dev.json")
        info = json.loads(dev_file.read_text())
        assert info["api_url"] == f"http://127.0.0.1:{port}"
        assert info["admin_key"] == env["SYNAPS_BOOTSTRAP_ADMIN_KEY"]
        key = {"X-API-Key": info["admin_key"]}  # dev.json's key works: it is in the ledger
        assert info["database_url"].startswith("postgresql://")
        assert dev_file.stat().st_mode & 0o077 == 0, "dev.json holds a key: owner-only"
        url = info["api_url"]
        assert httpx.get(f"{url}/readyz").json()["checks"] == {"database": "ok", "workers": "ok"}

        # through HTTP
        assert httpx.get(f"{url}/v1/runs/{uuid.uuid4()}").status_code == 401
        submitted = httpx.post(
            f"{url}/v1/commands/submit",
            json={"kind": "noop", "input": {"via": "http"}},
            headers={"Idempotency-Key": "e2e-1", **key},
        )
        assert submitted.status_code == 201
        run_id = submitted.json()["run_id"]
        eventually(
            lambda: (
                httpx.get(f"{url}/v1/runs/{run_id}", headers=key).json()["status"] == "succeeded"
            ),
            what="the HTTP run",
        )
        replay = httpx.post(
            f"{url}/v1/commands/submit",
            json={"kind": "noop", "input": {"via": "http"}},
            headers={"Idempotency-Key": "e2e-1", **key},
        )
        assert replay.status_code == 200 and replay.json()["run_id"] == run_id

        # through the CLI
        done = cli(
            "submit",
            "sleep",
            "--input",
            '{"seconds": 0.2}',
            "--wait",
            "--json",
            "--url",
            url,
            env=as_admin,
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
        shown = cli("runs", "get", run_id, "--url", url, env=as_admin)
        assert shown.returncode == 0 and "succeeded" in shown.stdout
        bad = cli("submit", "noop", "--input", "{oops", "--url", url)
        assert bad.returncode == 2 and "not valid JSON" in bad.stderr
        missing = cli(
            "runs", "get", "00000000-0000-0000-0000-000000000000", "--url", url, env=as_admin
        )
        assert missing.returncode == 1
        assert missing.stderr.strip().startswith("error:") and "not found" in missing.stderr
        unreachable = cli("runs", "get", run_id, "--url", "http://127.0.0.1:9", env=as_admin)
        assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr

        cli_agent_round_trip(url, as_admin)
        cli_identity_round_trip(url, run_id, env["SYNAPS_BOOTSTRAP_ADMIN_KEY"], tmp_path / "cli")

        assert postgres_of(data_dir), "the embedded server runs in the data dir"
        dev.send_signal(signal.SIGINT)
        assert dev.wait(60) == 0
    assert postgres_of(data_dir) == [], "no orphaned postgres after Ctrl-C"


OOM_DUMP = REPO / "tests" / "fixtures" / "k8s" / "own-oom-01-jvm-xmx"


def cli_agent_round_trip(url: str, as_admin: dict[str, str]) -> None:
    """ask --dump (evidence read here, uploaded; the chain runs in the dev worker), then
    deny its remediation; agents, tools and health."""
    asked = cli(
        "ask", "why does ledger-service keep restarting?", "-n", "payments",
        "--dump", str(OOM_DUMP), "--json", "--url", url, env=as_admin,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    run = answer["run"]
    assert run["kind"] == "agent.ask"
    analyzed = next(t for t in run["tasks"] if t["kind"] == "agent.diagnose")
    assert analyzed["output"]["diagnosis"]["root_cause"]["type"] == "oom_killed"
    (pending,) = answer["pending_approvals"]
    assert [c["tool"] for c in pending["tool_calls"]] == ["patch_resources"]
    denied = cli(
        "approvals", "deny", pending["approval_id"], "--reason", "e2e", "--url", url,
        env=as_admin,
    )  # fmt: skip
    assert denied.returncode == 0, denied.stderr
    shown = cli("ask", "why?", "--dump", "/nonexistent", "--url", url, env=as_admin)
    assert shown.returncode == 2 and "/nonexistent" in shown.stderr
    agents = cli("agents")
    assert agents.returncode == 0 and "IncidentAgent" in agents.stdout
    tools = json.loads(cli("tools", "--json", "--url", url, env=as_admin).stdout)
    assert {"patch_resources", "rollout_restart"} <= {t["name"] for t in tools}
    assert all(t["requires_approval"] for t in tools if t["name"] == "patch_resources")
    health = cli("health", "--url", url, env=as_admin)
    assert health.returncode == 0 and "ready" in health.stdout, health.stderr


def cli_identity_round_trip(url: str, run_id: str, admin_key: str, config_dir: Path) -> None:
    """login / status / config / keys / users / logout, as a person would type them."""
    home = {"SYNAPS_CONFIG_DIR": str(config_dir), "SYNAPS_API_KEY": ""}
    signed_out = cli("status", "--url", url, env=home)
    assert signed_out.returncode == 1 and "signed in no" in signed_out.stdout

    logged_in = cli("login", "--api-key", admin_key, "--url", url, env=home)
    assert logged_in.returncode == 0, logged_in.stderr
    config_file = config_dir / "config.json"
    assert config_file.stat().st_mode & 0o077 == 0, "the config holds a key: owner-only"
    assert cli("config", "get", "endpoint", env=home).stdout.strip() == url
    listed = cli("config", "list", env=home).stdout
    assert "sk_admin_…" in listed and admin_key not in listed
    assert "tenant default" in cli("status", env=home).stdout

    test_key = cli("keys", "create", "--type", "test", "--json", env=home)
    assert test_key.returncode == 0, test_key.stderr
    issued = json.loads(test_key.stdout)
    assert issued["key"].startswith("sk_test_")
    as_test = {**home, "SYNAPS_API_KEY": issued["key"]}
    assert cli("runs", "get", run_id, env=as_test).returncode == 0
    refused = cli("submit", "noop", env=as_test)
    assert refused.returncode == 1 and "runs:write" in refused.stderr
    keys = json.loads(cli("keys", "list", "--json", env=home).stdout)
    assert issued["key_id"] in [k["key_id"] for k in keys]
    assert "sk_test_…" in cli("keys", "list", env=home).stdout
    revoked = cli("keys", "revoke", issued["key"], "--reason", "e2e", env=home)
    assert revoked.returncode == 0, revoked.stderr
    gone = cli("runs", "get", run_id, env=as_test)
    assert gone.returncode == 1 and "revoked" in gone.stderr

    created = cli(
        "users", "create", "ann@example.com", "--roles", "operator", "--password-stdin",
        env=home, stdin="a long enough password\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "ann@example.com" in cli("users", "list", env=home).stdout
    as_ann = cli(
        "login", "--email", "ann@example.com", "--password-stdin", env=home,
        stdin="a long enough password\n",
    )  # fmt: skip
    assert as_ann.returncode == 0 and "user:ann@example.com" in as_ann.stdout, as_ann.stderr
    assert cli("runs", "get", run_id, env=home).returncode == 0
    assert cli("logout", env=home).returncode == 0
    after = cli("runs", "get", run_id, env=home)
    assert after.returncode == 1 and "401" in after.stderr
