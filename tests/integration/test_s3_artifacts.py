"""What only the S3 store promises, checked on a local S3 server (moto) over HTTP."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

import aioboto3
import pytest

from adapters.artifacts.s3 import S3ArtifactStore
from adapters.artifacts.store_url import open_artifact_store
from services.artifacts import ArtifactStoreError, object_key
from tests.integration.conftest import bucket_of, s3_admin

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024


def store_for(environ: dict[str, str], **options: int) -> S3ArtifactStore:
    session = aioboto3.Session(
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
        region_name=environ["AWS_REGION"],
    )
    return S3ArtifactStore(
        bucket_of(environ),
        "runs/artifacts",
        session=session,
        endpoint_url=environ["SYNAPS_S3_ENDPOINT_URL"],
        **options,
    )


async def test_objects_carry_content_type_and_digest_under_the_prefix(
    s3_environ: dict[str, str],
) -> None:
    store = open_artifact_store(s3_environ["SYNAPS_ARTIFACTS_URL"], s3_environ)
    async with contextlib.aclosing(store):
        ref = await store.put(b"<html>report</html>", "text/html")

    head = s3_admin(s3_environ).head_object(
        Bucket=bucket_of(s3_environ), Key=f"runs/artifacts/{object_key(ref)}"
    )
    assert head["ContentType"] == "text/html"
    assert head["Metadata"] == {"sha256": ref.hex}
    assert head["ContentLength"] == len(b"<html>report</html>")


async def test_large_streams_go_up_in_parts_and_come_back_whole(
    s3_environ: dict[str, str],
) -> None:
    # S3 wants parts of at least 5 MiB; a 1 MiB spool makes the put go through a file.
    store = store_for(s3_environ, spool_bytes=MIB, part_bytes=5 * MIB, chunk_size=MIB)
    blocks = [bytes([i]) * MIB for i in range(11)]

    async def stream() -> AsyncIterator[bytes]:
        for block in blocks:
            yield block

    read = hashlib.sha256()
    chunks = 0
    async with contextlib.aclosing(store):
        ref = await store.put(stream())
        async for chunk in store.open(ref):
            read.update(chunk)
            chunks += 1

    assert ref.size == 11 * MIB
    assert f"sha256:{read.hexdigest()}" == ref.digest
    assert chunks >= 11  # streamed, not read in one piece
    head = s3_admin(s3_environ).head_object(
        Bucket=bucket_of(s3_environ), Key=f"runs/artifacts/{object_key(ref)}"
    )
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts


async def test_a_failed_stream_uploads_nothing(s3_environ: dict[str, str]) -> None:
    async def breaks_midway() -> AsyncIterator[bytes]:
        yield b"half"
        raise ConnectionResetError

    async with contextlib.aclosing(store_for(s3_environ)) as store:
        with pytest.raises(ConnectionResetError):
            await store.put(breaks_midway())

    assert s3_admin(s3_environ).list_objects_v2(Bucket=bucket_of(s3_environ))["KeyCount"] == 0


async def test_a_missing_bucket_is_a_store_error(s3_environ: dict[str, str]) -> None:
    environ = {**s3_environ, "SYNAPS_ARTIFACTS_URL": "s3://no-such-bucket-here/x"}
    store = open_artifact_store(environ["SYNAPS_ARTIFACTS_URL"], environ)

    async with contextlib.aclosing(store):
        with pytest.raises(ArtifactStoreError, match="no-such-bucket-here"):
            await store.put(b"anything")


async def test_storing_the_same_bytes_again_uploads_nothing(s3_environ: dict[str, str]) -> None:
    admin, bucket = s3_admin(s3_environ), bucket_of(s3_environ)
    # With versioning on, every upload leaves a version behind: a re-upload would show.
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    async with contextlib.aclosing(store_for(s3_environ)) as store:
        first = await store.put(b"incident report")
        second = await store.put(b"incident report", "text/plain")

    assert (first.digest, first.size) == (second.digest, second.size)
    assert second.content_type == "text/plain"  # the ref says what the caller stored it as
    assert len(admin.list_object_versions(Bucket=bucket)["Versions"]) == 1
