"""The port to artifact storage: content-addressed bytes, checked against their digest."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from typing import Protocol

from domain.errors import DomainError, NotFound
from schemas.artifacts import DIGEST_PATTERN, ArtifactRef

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "ArtifactCorrupted",
    "ArtifactError",
    "ArtifactNotFound",
    "ArtifactStore",
    "ArtifactStoreConfigError",
    "ArtifactStoreError",
    "Content",
    "InvalidArtifactRef",
    "backend_errors",
    "copy_hashed",
    "object_key",
    "verified",
]

DEFAULT_CONTENT_TYPE = "application/octet-stream"

Content = bytes | AsyncIterable[bytes]

_DIGEST = re.compile(DIGEST_PATTERN)


class ArtifactStore(Protocol):
    """Backend failures raise ``ArtifactStoreError``; a malformed digest ``InvalidArtifactRef``."""

    async def put(self, content: Content, content_type: str = DEFAULT_CONTENT_TYPE) -> ArtifactRef:
        """Store ``content`` under its SHA-256; storing the same bytes again is a no-op."""
        ...

    def open(self, ref: ArtifactRef) -> AsyncIterator[bytes]:
        """Stream the bytes. Iterating raises ``ArtifactNotFound`` if they are not here,
        and ``ArtifactCorrupted`` after the last chunk if they do not match ``ref``."""
        ...

    async def get(self, ref: ArtifactRef) -> bytes:
        """All the bytes at once, checked like ``open``."""
        ...

    async def exists(self, ref: ArtifactRef) -> bool: ...

    async def aclose(self) -> None: ...


class ArtifactError(Exception):
    """Base of artifact failures that are not the caller's fault."""

    code = "artifact_error"


class ArtifactNotFound(NotFound):
    code = "artifact_not_found"

    def __init__(self, ref: ArtifactRef) -> None:
        super().__init__("artifact", ref.digest)
        self.ref = ref


class InvalidArtifactRef(DomainError):
    """A digest that is not ``sha256:<64 lower-case hex>`` names no artifact and no path."""

    code = "invalid_artifact_ref"


class ArtifactCorrupted(ArtifactError):
    """The stored bytes no longer hash to their name."""

    code = "artifact_corrupted"

    def __init__(self, ref: ArtifactRef, digest: str, size: int) -> None:
        super().__init__(
            f"artifact {ref.digest} ({ref.size} bytes) reads back as {digest} ({size} bytes)"
        )
        self.ref = ref


class ArtifactStoreError(ArtifactError):
    """The backend failed: unreachable, access denied, no such bucket, disk full..."""

    code = "artifact_store_error"


class ArtifactStoreConfigError(ArtifactError):
    """``SYNAPS_ARTIFACTS_URL`` (or its parts) cannot be used."""

    code = "artifact_store_config"


def object_key(ref: ArtifactRef) -> str:
    """``sha256/ab/abcdef…``: where a store keeps ``ref``, derived from its digest alone.

    The digest is checked first: it is all a path or object key is made of,
    so nothing but 64 hex digits ever reaches the file system or the bucket.
    """
    if not _DIGEST.fullmatch(ref.digest):
        raise InvalidArtifactRef(f"not an artifact digest: {ref.digest!r}")
    return f"sha256/{ref.hex[:2]}/{ref.hex}"


@contextlib.contextmanager
def backend_errors(where: str, *kinds: type[Exception]) -> Iterator[None]:
    """A backend's own errors (``kinds``) as ``ArtifactStoreError``, so callers need
    to know nothing of the backend."""
    try:
        yield
    except kinds as exc:
        raise ArtifactStoreError(f"{where}: {exc}") from exc


async def _chunks_of(content: Content) -> AsyncIterator[bytes]:
    if isinstance(content, bytes | bytearray | memoryview):
        yield bytes(content)
        return
    async for chunk in content:
        yield chunk


async def copy_hashed(
    content: Content, content_type: str, write: Callable[[bytes], Awaitable[object]]
) -> ArtifactRef:
    """Hand ``content`` to ``write`` chunk by chunk; the ref of what was written."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in _chunks_of(content):
        digest.update(chunk)
        size += len(chunk)
        await write(chunk)
    return ArtifactRef(digest=f"sha256:{digest.hexdigest()}", size=size, content_type=content_type)


async def verified(ref: ArtifactRef, chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """Pass ``chunks`` through, hashing them; raise ``ArtifactCorrupted`` at the end if
    they are not what ``ref`` names."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    actual = f"sha256:{digest.hexdigest()}"
    if actual != ref.digest or size != ref.size:
        raise ArtifactCorrupted(ref, actual, size)
