"""A scripted HTTP server speaking the OpenAI chat and Anthropic messages wire formats.

Tests queue replies per path and read back what the real SDKs sent. A path
with no reply left answers 500 ``unscripted``, so a test that makes an extra
call fails instead of hanging.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "CHAT_PATH",
    "MESSAGES_PATH",
    "ModelApi",
    "Received",
    "Reply",
    "anthropic_error",
    "anthropic_message",
    "openai_completion",
    "openai_error",
]

CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, to provoke client timeouts


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    at: float  # time.monotonic()


def openai_completion(
    text: str,
    *,
    model: str = "gpt-test",
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_error(message: str, kind: str = "server_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def anthropic_message(
    text: str,
    *,
    model: str = "claude-test",
    input_tokens: int = 13,
    output_tokens: int = 5,
    stop_reason: str = "end_turn",
) -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_error(message: str, kind: str = "api_error") -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: ModelApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has hung up before a delayed reply: expected.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        api = self.server.api
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        api.record(Received(self.path, headers, json.loads(raw or b"null"), time.monotonic()))
        reply = api.next_reply(self.path, headers)
        if reply.delay and api.stopping.wait(reply.delay):
            return
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class ModelApi:
    """One server on 127.0.0.1; ``url`` is its base (without ``/v1``)."""

    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[Received] = []
        self.stopping = threading.Event()
        self._replies: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ModelApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._replies.setdefault(path, deque()).extend(replies)

    def record(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        if not self._authorized(path, headers):
            return Reply(401, {"error": {"message": "bad or missing credentials"}})
        with self._lock:
            queue = self._replies.get(path)
            if queue:
                return queue.popleft()
        return Reply(500, {"error": {"message": f"unscripted call of {path}"}})

    def _authorized(self, path: str, headers: dict[str, str]) -> bool:
        # The key as each API takes it; Anthropic's also needs its version header
        # (this anthropic SDK sends the key as a bearer token, older ones as x-api-key).
        bearer = headers.get("authorization") == f"Bearer {self.api_key}"
        if path == MESSAGES_PATH:
            keyed = bearer or headers.get("x-api-key") == self.api_key
            return keyed and "anthropic-version" in headers
        return bearer
