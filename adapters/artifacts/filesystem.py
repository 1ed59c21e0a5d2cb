"""Artifacts as files under one root directory: ``<root>/sha256/ab/abcdef…``.

A put writes a temporary file in ``<root>/.incoming`` (same file system),
fsyncs it, and renames it into place, so a reader sees the whole file or
none; a crash leaves at most a stray temporary file, never a short artifact.
Blocking file calls run in worker threads, so the event loop keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from schemas.artifacts import ArtifactRef
from services.artifacts import (
    DEFAULT_CONTENT_TYPE,
    ArtifactNotFound,
    Content,
    backend_errors,
    copy_hashed,
    object_key,
    verified,
)

__all__ = ["FilesystemArtifactStore"]

_CHUNK = 1024 * 1024


class FilesystemArtifactStore:
    def __init__(self, root: Path, *, chunk_size: int = _CHUNK) -> None:
        self.root = root.resolve()
        self._incoming = self.root / ".incoming"
        self._chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"FilesystemArtifactStore({str(self.root)!r})"

    def _path(self, ref: ArtifactRef) -> Path:
        return self.root / object_key(ref)

    async def put(self, content: Content, content_type: str = DEFAULT_CONTENT_TYPE) -> ArtifactRef:
        with backend_errors(str(self.root), OSError):
            await asyncio.to_thread(self._incoming.mkdir, parents=True, exist_ok=True)
            fd, name = await asyncio.to_thread(tempfile.mkstemp, dir=self._incoming)
            temporary = Path(name)
            try:
                with os.fdopen(fd, "wb") as file:
                    ref = await copy_hashed(
                        content, content_type, lambda chunk: asyncio.to_thread(file.write, chunk)
                    )
                    await asyncio.to_thread(_flush, file)
                await asyncio.to_thread(_install, temporary, self._path(ref), ref.size)
            finally:
                await asyncio.to_thread(temporary.unlink, missing_ok=True)
        return ref

    async def open(self, ref: ArtifactRef) -> AsyncIterator[bytes]:
        path = self._path(ref)
        with backend_errors(str(path), OSError):
            try:
                file = await asyncio.to_thread(path.open, "rb")
            except FileNotFoundError:
                raise ArtifactNotFound(ref) from None
            try:
                async with contextlib.aclosing(verified(ref, self._chunks(file))) as chunks:
                    async for chunk in chunks:
                        yield chunk
            finally:
                file.close()

    async def _chunks(self, file: BinaryIO) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(file.read, self._chunk_size):
            yield chunk

    async def get(self, ref: ArtifactRef) -> bytes:
        return b"".join([chunk async for chunk in self.open(ref)])

    async def exists(self, ref: ArtifactRef) -> bool:
        return await asyncio.to_thread(self._path(ref).is_file)

    async def aclose(self) -> None:
        """Nothing to release."""


def _flush(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


def _install(temporary: Path, final: Path, size: int) -> None:
    """Rename ``temporary`` to ``final`` unless the same bytes are already there."""
    with contextlib.suppress(FileNotFoundError):
        if final.stat().st_size == size:
            return  # content-addressed: same name, same bytes
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary.chmod(0o444)  # an artifact never changes once written
    os.replace(temporary, final)
    # The rename itself must survive a crash, not only the file's bytes.
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
