"""The prompt task kind: active prompt, routing rules, real SDKs, answer kept as an artifact."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient

from adapters.artifacts.filesystem import FilesystemArtifactStore
from adapters.llm.registry import providers_from_env
from schemas.commands import SubmitCommand
from schemas.views import RunView
from services.ports import Caller
from synaps.bootstrap import Container
from synaps.wiring import api_app
from tests.integration.conftest import API_KEY
from tests.integration.model_api import (
    CHAT_PATH,
    MESSAGES_PATH,
    ModelApi,
    Reply,
    anthropic_message,
    openai_completion,
)

pytestmark = pytest.mark.integration

USER = Caller(actor="user", request_id="r")


def finished(container: Container, run_id: uuid.UUID, timeout: float = 15) -> RunView:
    deadline = time.monotonic() + timeout
    while (view := container.runs.get_run(run_id, USER)).status not in (
        "succeeded",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, view.tasks
        time.sleep(0.02)
    return view


def test_prompt_tasks_route_to_real_sdks_and_keep_their_answers(
    container: Container,
    model_api: ModelApi,
    second_model_api: ModelApi,
    tmp_path: Path,
    admin_key: str,
) -> None:
    container._providers = providers_from_env(
        {
            "OPENAI_API_KEY": API_KEY,
            "OPENAI_BASE_URL": f"{model_api.url}/v1",
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": second_model_api.url,
        }
    )
    container.artifacts = FilesystemArtifactStore(tmp_path / "artifacts")
    container.projector().start()
    pool = container.worker_pool(concurrency=2)
    pool.start()
    control = container.control
    try:
        control.add_version(
            "prompt", "summarize", {"template": "Summarize: {text}"}, "", USER, activate=True
        )
        control.add_version(
            "routing_rule",
            "prompts",
            {
                "match": {"task_kind": "prompt"},
                "provider": "openai",
                "model": "gpt-test",
                "fallbacks": [{"provider": "anthropic", "model": "claude-test"}],
            },
            "openai first",
            USER,
            activate=True,
        )
        time.sleep(0.7)  # the workers' snapshot follows within a second
        model_api.script(
            CHAT_PATH,
            Reply(
                200, openai_completion("A short summary.", prompt_tokens=11, completion_tokens=7)
            ),
        )
        run = finished(
            container,
            container.submit.submit(
                SubmitCommand(kind="prompt", input={"prompt": "summarize", "text": "long text"}),
                USER,
            ).submitted.run_id,
        )
        assert run.status == "succeeded", run.tasks
        assert run.output["text"] == "A short summary."
        assert (run.output["provider"], run.output["model"]) == ("openai", "gpt-test")
        assert run.output["usage"]["input_tokens"] == 11
        assert run.output["usage"]["output_tokens"] == 7
        sent = model_api.requests[-1].body
        assert sent["messages"][-1]["content"] == "Summarize: long text"
        # the answer is an artifact whose version is in the ledger with the completion
        with psycopg.connect(container.settings.database_url) as conn:
            rows = conn.execute(
                "SELECT topic, notification_id >> 20 FROM synaps_events"
                " WHERE topic IN ('ArtifactVersionAdded.v1', 'TaskSucceeded.v1')"
            ).fetchall()
        assert {t for t, _ in rows} == {"ArtifactVersionAdded.v1", "TaskSucceeded.v1"}
        assert len({x for _, x in rows}) == 1, "recorded in one transaction"
        with TestClient(api_app(container)) as http:
            http.headers["X-API-Key"] = admin_key
            view = http.get(
                f"/v1/runs/{run.run_id}", params={"min_position": run.events[-1].position}
            ).json()
            (artifact,) = view["artifacts"]
            assert artifact["name"] == "summarize.answer"
            body = http.get(artifact["url"])
            assert body.status_code == 200
            assert body.content == b"A short summary."
            assert body.headers["content-type"].startswith("text/plain")
            assert http.get(f"/v1/artifacts/{uuid.uuid4()}").status_code == 404
        # a routing change takes effect for the next task, without a restart
        control.add_version(
            "routing_rule",
            "prompts",
            {
                "match": {"task_kind": "prompt"},
                "provider": "anthropic",
                "model": "claude-test",
            },
            "switch to Claude",
            USER,
            activate=True,
        )
        time.sleep(1.0)
        second_model_api.script(MESSAGES_PATH, Reply(200, anthropic_message("Claude says hi.")))
        run = finished(
            container,
            container.submit.submit(
                SubmitCommand(kind="prompt", input={"prompt": "summarize", "text": "more"}), USER
            ).submitted.run_id,
        )
        assert run.output["provider"] == "anthropic" and run.output["text"] == "Claude says hi."
        # the caller's mistakes are not retried
        run = finished(
            container,
            container.submit.submit(
                SubmitCommand(kind="prompt", input={"prompt": "summarize"}), USER
            ).submitted.run_id,
        )
        assert run.status == "failed" and run.tasks[0].attempt == 1
        assert "text" in (run.error or "")
    finally:
        pool.stop()


def test_without_a_routing_rule_the_offline_provider_answers(
    container: Container, tmp_path: Path
) -> None:
    container.artifacts = FilesystemArtifactStore(tmp_path / "artifacts")
    container.projector().start()
    pool = container.worker_pool()
    pool.start()
    try:
        container.control.add_version(
            "prompt", "hello", {"template": "Hello {who}"}, "", USER, activate=True
        )
        time.sleep(0.7)
        run = finished(
            container,
            container.submit.submit(
                SubmitCommand(kind="prompt", input={"prompt": "hello", "who": "synaps"}), USER
            ).submitted.run_id,
        )
        assert run.status == "succeeded", run.error
        assert run.output["provider"] == "local"
        assert run.tasks[0].control_hash is not None
    finally:
        pool.stop()
