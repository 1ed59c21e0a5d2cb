"""What the API-facing commands share: the ``--url`` option, an authenticated client,
and a call that turns API errors into a one-line message and a non-zero exit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.http.client import ApiError, SynapsClient
from synaps.cli_config import connect
from synaps.console import fail

__all__ = ["ApiUrl", "call", "client"]

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="SYNAPS_URL",
        help="Base URL of the synaps API (default: the configured endpoint).",
    ),
]


def client(url: str | None) -> SynapsClient:
    """A client of the API at ``url`` (else the configured endpoint) with the configured
    credentials (SYNAPS_API_KEY, the config file's key, or the signed-in session)."""
    try:
        return connect(url)
    except ApiError as exc:
        raise fail(str(exc)) from None


def call(url: str | None, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """One request; its JSON answer, or exit 1 with the API's problem detail."""
    with client(url) as api:
        try:
            if method == "GET":
                return api.get(path, **{k: v for k, v in params.items() if v is not None}).json()
            return api.post(path, body).json()
        except ApiError as exc:
            raise fail(str(exc)) from None
