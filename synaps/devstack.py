"""``synaps dev``: PostgreSQL from the wheel, the API and a worker pool, in one command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

from adapters.http.client import SynapsClient
from adapters.identity.signing_keys import SigningKeys
from adapters.nats.server import EmbeddedNats
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrate import apply_migrations
from domain.access import KeyType
from services.api_keys import new_key
from synaps.bootstrap import build
from synaps.server import serve
from synaps.settings import Settings
from synaps.wiring import api_app

__all__ = ["DevStack", "run_dev"]

console = Console(stderr=True)


def _admin_key(dev_file: Path) -> str:
    """The bootstrap admin key: from the environment, else the one dev.json has, else new."""
    key = os.environ.get("SYNAPS_BOOTSTRAP_ADMIN_KEY")
    if key:
        return key
    if dev_file.exists():
        try:
            existing = json.loads(dev_file.read_text())
            if isinstance(existing.get("admin_key"), str):
                return str(existing["admin_key"])
        except ValueError:
            pass
    return new_key(KeyType.ADMIN)


class DevStack:
    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.host = host
        self.dev_file = self.data_dir / "dev.json"
        self.jwt_keys_file = self.data_dir / "jwt-keys.json"
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
        self.nats = EmbeddedNats(self.data_dir / "nats")

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def describe(self, database_url: str, admin_key: str) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "database_url": database_url,
            "nats_url": self.nats.url,
            "admin_key": admin_key,
        }

    def write_dev_file(self, info: dict[str, Any]) -> None:
        tmp = self.dev_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.dev_file)


def run_dev(
    data_dir: Path, port: int, *, demo: bool, concurrency: int, host: str = "127.0.0.1"
) -> None:
    stack = DevStack(data_dir, port, host)
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]synaps dev[/] starting PostgreSQL in {stack.postgres.pgdata} ...")
    stack.postgres.start()
    container = None
    try:
        stack.nats.start()
        database_url = stack.postgres.ensure_database("synaps")
        apply_migrations(database_url)
        admin_key = _admin_key(stack.dev_file)
        settings = Settings.from_env(
            database_url=database_url,
            nats_url=stack.nats.url,
            artifacts_url=(stack.data_dir / "artifacts").as_uri(),
            host=host,
            port=port,
            api_url=stack.api_url,
            worker_concurrency=concurrency,
            bootstrap_admin_key=admin_key,
        )
        if not (settings.jwt_keys or settings.jwt_secret):
            # Access tokens for `synaps login --email`: a signing key kept in the data dir.
            SigningKeys.load_or_create(stack.jwt_keys_file)
            settings.jwt_keys = str(stack.jwt_keys_file)
        container = build(settings)
        container.projector().start()
        pool = container.worker_pool()
        pool.start()
        info = stack.describe(database_url, admin_key)

        def started() -> None:
            stack.write_dev_file(info)
            console.print(
                Panel.fit(
                    f"API       {stack.api_url}\n"
                    f"OpenAPI   {stack.api_url}/schema\n"
                    f"Metrics   {stack.api_url}/metrics\n"
                    f"Database  {database_url}\n"
                    f"NATS      {stack.nats.url}\n"
                    f"Admin key {admin_key}\n"
                    f"Settings  {stack.dev_file}\n\n"
                    "Press Ctrl-C to stop.",
                    title="synaps dev is running",
                )
            )
            if demo:
                _run_demo(stack.api_url, admin_key)

        serve(api_app(container), host, port, on_started=started)
    finally:
        console.print("synaps dev: stopping ...")
        if container is not None:
            container.close()
        stack.nats.stop()
        stack.postgres.stop()
        console.print("synaps dev: stopped")


def _run_demo(api_url: str, api_key: str) -> None:
    try:
        with SynapsClient(api_url, api_key=api_key) as client:
            _, submitted = client.submit("noop", {"hello": "synaps"})
            run = client.wait_for_run(
                submitted["run_id"], timeout=30, min_position=submitted["position"]
            )
    except Exception as exc:  # noqa: BLE001 - the demo must not take the stack down
        console.print(f"[red]demo command failed:[/] {exc}")
        return
    console.print(
        f"demo: submitted [bold]noop[/] as run {run['run_id']} -> [green]{run['status']}[/] "
        f"with output {json.dumps(run['output'])} "
        f"({len(run['events'])} events: {', '.join(e['type'] for e in run['events'])})"
    )
