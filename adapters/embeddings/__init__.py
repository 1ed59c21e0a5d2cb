"""Embedders for incident memory, chosen by ``SYNAPS_EMBEDDINGS``.

``hashing`` (the default) needs nothing; ``openai:MODEL[:DIMENSIONS]`` uses the
provider's embeddings with ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``. Asked for
openai without a key, the process falls back to hashing, once, at start: an
embedder is chosen per process, never per text, so vectors never mix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import structlog

from adapters.embeddings.hashing import HashingEmbedder
from adapters.embeddings.openai_embeddings import OpenAIEmbedder
from adapters.llm.openai_chat import OPENAI_BASE_URL
from services.agents.ports import Embedder

__all__ = ["EMBEDDINGS_ENV", "embedder_from_env"]

EMBEDDINGS_ENV = "SYNAPS_EMBEDDINGS"

log = structlog.get_logger(__name__)


def embedder_from_env(environ: Mapping[str, str] = os.environ) -> Embedder:
    spec = (environ.get(EMBEDDINGS_ENV) or "hashing").strip()
    provider, _, rest = spec.partition(":")
    if provider == "hashing":
        return HashingEmbedder(int(rest) if rest else 256)
    if provider != "openai" or not rest:
        raise ValueError(
            f"{EMBEDDINGS_ENV}={spec!r}: expected 'hashing' or 'openai:MODEL[:DIMENSIONS]'"
        )
    model, _, size = rest.partition(":")
    api_key = environ.get("OPENAI_API_KEY")
    if not api_key:
        log.warning("no OPENAI_API_KEY: incident memory embeds with hashing", asked=spec)
        return HashingEmbedder()
    return OpenAIEmbedder(
        model,
        api_key=api_key,
        base_url=environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
        dimensions=int(size) if size else None,
    )
