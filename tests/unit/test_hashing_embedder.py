"""The local embedder: deterministic, unit length, the same failure close and others far;
and the choice of embedder from the environment."""

from __future__ import annotations

import asyncio
import math

import pytest

from adapters.embeddings import embedder_from_env
from adapters.embeddings.hashing import HashingEmbedder
from adapters.embeddings.openai_embeddings import OpenAIEmbedder
from domain.incident_fingerprint import symptoms_text

OOM = symptoms_text(
    "oom_killed",
    "checkout",
    [
        "pod checkout-7d9f8b6c5d-x2k4p container app lastState.terminated.reason=OOMKilled"
        " exitCode=137 restartCount=7",
        "memory limit 512Mi; 7 restarts",
        "JVM -Xmx1g above memory limit 512Mi",
    ],
)
OOM_AGAIN = symptoms_text(
    "oom_killed",
    "checkout",
    [
        "pod checkout-5c4b6d8f9-q7zrt container app lastState.terminated.reason=OOMKilled"
        " exitCode=137 restartCount=2",
        "memory limit 512Mi; 2 restarts",
        "JVM -Xmx1g above memory limit 512Mi",
        "event Warning BackOff Pod/checkout-5c4b6d8f9-q7zrt: Back-off restarting failed container",
    ],
)
IMAGE_PULL = symptoms_text(
    "image_pull_error",
    "api",
    [
        'pod api-l7s6kc6t7-tcd7h container api state.waiting.reason=ImagePullBackOff message="Back-'
        'off pulling image "ghcr.io/acme/api:v2.3.9""',
        'event Warning Failed Pod/api-l7s6kc6t7-tcd7h (x7): Failed to pull image "ghcr.io/acme/api'
        ':v2.3.9": not found',
    ],
)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_have_unit_length_and_the_asked_dimensions() -> None:
    for dimensions in (16, 256, 1000):
        vector = HashingEmbedder(dimensions).vector(OOM)
        assert len(vector) == dimensions
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0)


def test_text_without_words_is_the_zero_vector() -> None:
    assert HashingEmbedder(32).vector(" \n;; ") == [0.0] * 32


def test_vectors_are_the_same_in_every_process_and_release() -> None:
    # BLAKE2b, not hash(): stored embeddings must match those computed after a restart
    # (PYTHONHASHSEED varies) or an upgrade. Changing the features needs a new name.
    vector = HashingEmbedder(16).vector("oom killed checkout\npod checkout exitcode=137")
    a, b = 0.47202, 0.278783
    assert [round(v, 6) for v in vector] == [
        a, -b, -b, 0.0, 0.557565, 0.0, b, 0.0, 0.0, 0.0, -b, 0.0, b, 0.0, 0.0, -b
    ]  # fmt: skip


def test_the_same_failure_again_is_closer_than_another_failure() -> None:
    embedder = HashingEmbedder()
    oom, again, pull = (embedder.vector(t) for t in (OOM, OOM_AGAIN, IMAGE_PULL))
    assert cosine(oom, again) > 0.8
    assert cosine(oom, pull) < 0.3
    assert cosine(oom, again) > cosine(oom, pull) + 0.5


def test_embed_is_the_vector() -> None:
    embedder = HashingEmbedder(64)
    assert asyncio.run(embedder.embed(OOM)) == embedder.vector(OOM)
    assert embedder.name == "hashing-v1-64"  # vectors of other sizes never compared


def test_too_few_dimensions_are_refused() -> None:
    with pytest.raises(ValueError, match="16"):
        HashingEmbedder(8)


def test_the_embedder_comes_from_the_environment() -> None:
    default = embedder_from_env({})
    assert isinstance(default, HashingEmbedder) and default.name == "hashing-v1-256"
    assert embedder_from_env({"SYNAPS_EMBEDDINGS": "hashing:512"}).name == "hashing-v1-512"
    chosen = embedder_from_env(
        {
            "SYNAPS_EMBEDDINGS": "openai:text-embedding-3-small:256",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    assert isinstance(chosen, OpenAIEmbedder)
    assert (chosen.name, chosen.dimensions) == ("openai:text-embedding-3-small:256", 256)
    assert chosen.base_url == "http://127.0.0.1:9/v1"
    native = embedder_from_env(
        {"SYNAPS_EMBEDDINGS": "openai:text-embedding-3-small", "OPENAI_API_KEY": "sk-test"}
    )
    assert (native.name, native.dimensions) == ("openai:text-embedding-3-small", 1536)


def test_openai_without_a_key_falls_back_to_hashing() -> None:
    chosen = embedder_from_env({"SYNAPS_EMBEDDINGS": "openai:text-embedding-3-small"})
    assert isinstance(chosen, HashingEmbedder)


@pytest.mark.parametrize("spec", ["openai", "cohere:embed-v3", "openai:my-model"])
def test_a_bad_embeddings_setting_is_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        embedder_from_env({"SYNAPS_EMBEDDINGS": spec, "OPENAI_API_KEY": "sk-test"})
