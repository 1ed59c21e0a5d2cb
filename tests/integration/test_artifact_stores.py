"""One contract, two stores: a directory, and a bucket on a local S3 server (moto)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.artifacts.filesystem import FilesystemArtifactStore
from adapters.artifacts.s3 import S3ArtifactStore
from adapters.artifacts.store_url import open_artifact_store
from schemas.artifacts import ArtifactRef
from services.artifacts import (
    ArtifactCorrupted,
    ArtifactNotFound,
    ArtifactStore,
    InvalidArtifactRef,
    object_key,
)
from tests.integration.conftest import bucket_of, s3_admin

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Backend:
    store: ArtifactStore
    tamper: Callable[[ArtifactRef, bytes], None]  # overwrite a stored object behind its back
    count: Callable[[], int]  # how many objects it holds


@pytest.fixture(params=["filesystem", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each store as its URL configures it."""
    if request.param == "filesystem":
        root = tmp_path / "artifacts"
        store = open_artifact_store(root.as_uri())

        def tamper(ref: ArtifactRef, data: bytes) -> None:
            path = root / object_key(ref)
            path.chmod(0o644)
            path.write_bytes(data)

        def count() -> int:
            return sum(1 for p in (root / "sha256").rglob("*") if p.is_file())

    else:
        environ = request.getfixturevalue("s3_environ")
        store = open_artifact_store(environ["SYNAPS_ARTIFACTS_URL"], environ)
        admin, bucket = s3_admin(environ), bucket_of(environ)

        def tamper(ref: ArtifactRef, data: bytes) -> None:
            admin.put_object(Bucket=bucket, Key=f"runs/artifacts/{object_key(ref)}", Body=data)

        def count() -> int:
            return int(admin.list_objects_v2(Bucket=bucket).get("KeyCount", 0))

    yield Backend(store, tamper, count)
    await store.aclose()


async def chunked(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def ref_of(data: bytes, content_type: str = "application/octet-stream") -> ArtifactRef:
    return ArtifactRef(
        digest=f"sha256:{hashlib.sha256(data).hexdigest()}",
        size=len(data),
        content_type=content_type,
    )


async def test_put_names_the_bytes_by_their_digest_and_gives_them_back(
    backend: Backend,
) -> None:
    store = backend.store
    data = b'{"pod": "web-1", "reason": "OOMKilled"}'

    ref = await store.put(data, "application/json")

    assert ref == ref_of(data, "application/json")
    assert await store.exists(ref)
    assert await store.get(ref) == data
    assert b"".join([chunk async for chunk in store.open(ref)]) == data


async def test_same_bytes_twice_is_one_object(backend: Backend) -> None:
    store = backend.store

    first = await store.put(b"evidence")
    second = await store.put(chunked(b"evi", b"dence"))

    assert first == second
    assert backend.count() == 1


async def test_a_stream_is_stored_like_the_same_bytes(
    backend: Backend,
) -> None:
    store = backend.store
    parts = [bytes([i]) * 1000 for i in range(50)]

    ref = await store.put(chunked(*parts), "text/plain")

    assert ref == ref_of(b"".join(parts), "text/plain")
    assert await store.get(ref) == b"".join(parts)


async def test_empty_content_is_an_artifact_too(
    backend: Backend,
) -> None:
    store = backend.store
    ref = await store.put(b"")
    assert ref.size == 0
    assert await store.get(ref) == b""


async def test_missing_artifact_raises_not_found(
    backend: Backend,
) -> None:
    store = backend.store
    ref = ref_of(b"never stored")

    assert not await store.exists(ref)
    with pytest.raises(ArtifactNotFound, match=ref.digest):
        await store.get(ref)
    with pytest.raises(ArtifactNotFound):
        async for _ in store.open(ref):
            pass


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../../../etc/passwd",
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 63 + "/",
        "md5:" + "a" * 32,
        "sha256:" + "a" * 64 + "\n",
    ],
)
async def test_a_ref_that_is_not_a_digest_reaches_no_path(backend: Backend, digest: str) -> None:
    store = backend.store
    ref = ArtifactRef(digest=digest, size=0)

    with pytest.raises(InvalidArtifactRef):
        await store.exists(ref)
    with pytest.raises(InvalidArtifactRef):
        await store.get(ref)


async def test_bytes_changed_behind_the_store_are_detected_on_read(
    backend: Backend,
) -> None:
    store = backend.store
    ref = await store.put(b"the original report")
    backend.tamper(ref, b"a forged report!!!!")  # same length: only the digest can tell

    with pytest.raises(ArtifactCorrupted, match=ref.digest):
        await store.get(ref)


async def test_the_url_picks_the_backend(backend: Backend, request: pytest.FixtureRequest) -> None:
    store = backend.store
    expected = {"filesystem": FilesystemArtifactStore, "s3": S3ArtifactStore}
    assert isinstance(store, expected[request.node.callspec.params["backend"]])
