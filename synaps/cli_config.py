"""The command line's settings: endpoint and credentials, in the user config dir.

The file (``config.json``) is the user's only and holds keys and tokens, so it
is written with mode 0600 in a 0700 directory. ``SYNAPS_URL`` and
``SYNAPS_API_KEY`` override it; a command's ``--url`` overrides both.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import msgspec
import typer

from adapters.http.client import ApiError, SynapsClient

__all__ = [
    "DEFAULT_URL",
    "SETTABLE",
    "CliConfig",
    "config_path",
    "connect",
    "load_config",
    "resolve_url",
    "save_config",
]

DEFAULT_URL = "http://127.0.0.1:8081"
SETTABLE = {"endpoint": "endpoint", "api-key": "api_key"}
_REFRESH_MARGIN_SECONDS = 60


class CliConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    endpoint: str | None = None
    api_key: str | None = None
    # a signed-in user's session (synaps login --email)
    email: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None


def config_path() -> Path:
    folder = os.environ.get("SYNAPS_CONFIG_DIR") or typer.get_app_dir("synaps")
    return Path(folder) / "config.json"


def load_config() -> CliConfig:
    path = config_path()
    if not path.exists():
        return CliConfig()
    try:
        return msgspec.json.decode(path.read_bytes(), type=CliConfig)
    except msgspec.DecodeError as exc:
        raise typer.BadParameter(f"{path} is not a synaps config file: {exc}") from None


def save_config(config: CliConfig) -> Path:
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(msgspec.json.format(msgspec.json.encode(config)) + b"\n")
    os.chmod(tmp, 0o600)  # an existing file keeps its mode through O_TRUNC
    tmp.replace(path)
    return path


def resolve_url(flag: str | None, config: CliConfig | None = None) -> str:
    """``--url`` (or ``SYNAPS_URL``), else the configured endpoint, else the default."""
    if flag:
        return flag
    config = config or load_config()
    return config.endpoint or DEFAULT_URL


def _expires_soon(access_token: str) -> bool:
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - time.time() < _REFRESH_MARGIN_SECONDS
    except (IndexError, KeyError, TypeError, ValueError):
        return True


def connect(url: str | None) -> SynapsClient:
    """A client with the configured credentials: ``SYNAPS_API_KEY``, else the
    configured key, else the signed-in session (refreshed when it is about to expire)."""
    config = load_config()
    base = resolve_url(url, config)
    api_key = os.environ.get("SYNAPS_API_KEY") or config.api_key
    if api_key:
        return SynapsClient(base, api_key=api_key)
    if config.access_token and config.refresh_token and _expires_soon(config.access_token):
        with SynapsClient(base) as anonymous:
            try:
                pair = anonymous.refresh(config.refresh_token)
            except ApiError as exc:
                if exc.status not in (401, 422):
                    raise
                config.access_token = config.refresh_token = None
                save_config(config)
                raise ApiError(
                    401, exc.code, "your session has ended: synaps login again"
                ) from None
        config.access_token, config.refresh_token = pair["access_token"], pair["refresh_token"]
        save_config(config)
    return SynapsClient(base, access_token=config.access_token)
