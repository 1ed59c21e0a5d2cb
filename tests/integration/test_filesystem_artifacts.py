"""What only the directory store promises: atomic files, and nothing half-written."""

from __future__ import annotations

import asyncio
import hashlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.artifacts.filesystem import FilesystemArtifactStore
from services.artifacts import ArtifactStoreError

pytestmark = pytest.mark.anyio


class Interrupted(Exception):
    pass


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def breaks_midway() -> AsyncIterator[bytes]:
    yield b"first half of the evidence, "
    raise Interrupted


async def test_artifacts_are_read_only_files_named_by_digest(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path)
    ref = await store.put(b"kubectl describe pod web-1")

    hex_digest = hashlib.sha256(b"kubectl describe pod web-1").hexdigest()
    path = tmp_path / "sha256" / hex_digest[:2] / hex_digest
    assert path.read_bytes() == b"kubectl describe pod web-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert ref.hex == hex_digest


async def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path)

    with pytest.raises(Interrupted):
        await store.put(breaks_midway())

    assert not (tmp_path / "sha256").exists()
    assert list((tmp_path / ".incoming").iterdir()) == []


async def test_concurrent_puts_of_the_same_bytes_agree(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path)
    data = b"x" * 300_000

    refs = await asyncio.gather(*[store.put(data) for _ in range(8)])

    assert len(set(refs)) == 1
    assert files_under(tmp_path) == [tmp_path / "sha256" / refs[0].hex[:2] / refs[0].hex]
    assert await store.get(refs[0]) == data


async def test_reads_stream_in_chunks(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path, chunk_size=1000)
    ref = await store.put(b"y" * 2500)

    sizes = [len(chunk) async for chunk in store.open(ref)]

    assert sizes == [1000, 1000, 500]


async def test_an_unwritable_root_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    store = FilesystemArtifactStore(blocker / "artifacts")

    with pytest.raises(ArtifactStoreError, match="not-a-directory"):
        await store.put(b"anything")


async def test_storing_the_same_bytes_again_writes_nothing(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path)
    first = await store.put(b"incident report")
    path = tmp_path / "sha256" / first.hex[:2] / first.hex
    before = path.stat()

    await store.put(b"incident report")

    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
