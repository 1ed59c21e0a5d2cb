"""``POST /api/ask``: the Syntra-compatible way to ask the DevOps teammate.

Syntra's CLI sends ``{"prompt": ..., "context"?: ...}`` with ``X-API-Key`` and shows
``result``; Syntra's server answered ``response``. Both carry the answer text here,
next to the run id and the structured diagnosis.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody, QueryParameter

from adapters.http.problems import problem_responses
from adapters.http.services import POSITION_HEADER, IdempotencyKey, Svc, caller_of

__all__ = ["ASK_ROUTES", "AskBody", "AskReply"]


class AskBody(msgspec.Struct, frozen=True, kw_only=True):
    """Fields other clients add (model, stream, session ids...) are ignored."""

    prompt: str | None = None
    question: str | None = None
    context: Any = None
    namespace: str | None = None
    workload: str | None = None


class AskReply(msgspec.Struct, frozen=True, kw_only=True):
    result: str  # what the Syntra CLI displays
    response: str  # what the Syntra server returned
    run_id: str
    status: str
    awaiting_approval: bool
    diagnosis: dict[str, Any] | None
    position: int


@post(
    "/api/ask",
    tags=["agents"],
    sync_to_thread=True,
    status_code=200,
    summary="Ask the DevOps teammate (Syntra-compatible)",
    responses=problem_responses(400, 401, 403, 409, 422, 429, 503),
)
def ask(
    data: JSONBody[AskBody],
    request: Request[Any, Any, Any],
    svc: Svc,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[
        float | None,
        QueryParameter(ge=0, le=600, description="Seconds to wait for the answer (bounded)."),
    ] = None,
) -> Response[AskReply]:
    """Submits an `agent.ask` run and waits (bounded by the server's setting) until it
    answers or waits for an approval; `status` says which (`running` = not yet)."""
    payload = {k: v for k, v in msgspec.to_builtins(data).items() if v is not None}
    answer = svc.ask.ask(
        payload, caller_of(request), idempotency_key=idempotency_key, wait_seconds=wait
    )
    reply = AskReply(
        result=answer.answer,
        response=answer.answer,
        run_id=str(answer.run_id),
        status=answer.status,
        awaiting_approval=answer.awaiting_approval,
        diagnosis=answer.diagnosis,
        position=answer.position,
    )
    return Response(reply, headers={POSITION_HEADER: str(answer.position)})


ASK_ROUTES = [ask]
