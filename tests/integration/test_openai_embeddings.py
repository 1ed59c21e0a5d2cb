"""The provider's embeddings through the real openai SDK, against a local server
speaking its wire format."""

from __future__ import annotations

import math
from typing import Any

import pytest

from adapters.embeddings import embedder_from_env
from adapters.embeddings.openai_embeddings import OpenAIEmbedder
from services.models import ProviderRejected, ProviderTransientError
from tests.integration.conftest import API_KEY
from tests.integration.model_api import ModelApi, Reply, openai_error

pytestmark = pytest.mark.anyio

EMBEDDINGS_PATH = "/v1/embeddings"


def embeddings(*vectors: list[float], model: str = "text-embedding-3-small") -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }


def embedder(api: ModelApi, spec: str = "openai:text-embedding-3-small:4") -> OpenAIEmbedder:
    chosen = embedder_from_env(
        {"SYNAPS_EMBEDDINGS": spec, "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"{api.url}/v1"}
    )
    assert isinstance(chosen, OpenAIEmbedder)
    return chosen


async def test_the_vector_is_asked_with_its_size_and_comes_back_unit_length(
    model_api: ModelApi,
) -> None:
    model_api.script(EMBEDDINGS_PATH, Reply(body=embeddings([3.0, 0.0, 4.0, 0.0])))
    chosen = embedder(model_api)
    try:
        vector = await chosen.embed("oom killed checkout")
    finally:
        await chosen.aclose()
    assert vector == pytest.approx([0.6, 0.0, 0.8, 0.0])
    assert math.isclose(sum(v * v for v in vector), 1.0)
    (sent,) = model_api.requests
    assert sent.path == EMBEDDINGS_PATH
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body == {
        "model": "text-embedding-3-small",
        "input": "oom killed checkout",
        "encoding_format": "float",
        "dimensions": 4,
    }


async def test_the_model_size_is_not_asked_for(model_api: ModelApi) -> None:
    model_api.script(EMBEDDINGS_PATH, Reply(body=embeddings([1.0] * 1536)))
    chosen = embedder(model_api, "openai:text-embedding-3-small")
    try:
        vector = await chosen.embed("x")
    finally:
        await chosen.aclose()
    assert len(vector) == 1536 and chosen.name == "openai:text-embedding-3-small"
    assert "dimensions" not in model_api.requests[0].body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (embeddings([1.0, 0.0]), "answered 2 dimensions, not 4"),
        (embeddings([0.0, 0.0, 0.0, 0.0]), "zero vector"),
        (embeddings(), "no data"),
    ],
)
async def test_an_unusable_answer_is_rejected_not_stored(
    model_api: ModelApi, body: dict[str, Any], message: str
) -> None:
    model_api.script(EMBEDDINGS_PATH, Reply(body=body))
    chosen = embedder(model_api)
    try:
        with pytest.raises(ProviderRejected, match=message):
            await chosen.embed("x")
    finally:
        await chosen.aclose()


async def test_http_failures_are_the_typed_model_errors(model_api: ModelApi) -> None:
    model_api.script(
        EMBEDDINGS_PATH,
        Reply(503, openai_error("overloaded")),
        Reply(400, openai_error("bad input", "invalid_request_error")),
    )
    chosen = embedder(model_api)
    try:
        with pytest.raises(ProviderTransientError):
            await chosen.embed("x")
        with pytest.raises(ProviderRejected):
            await chosen.embed("x")
    finally:
        await chosen.aclose()
