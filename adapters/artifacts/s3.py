"""Artifacts as objects in an S3 bucket (AWS, MinIO, Ceph...): ``<prefix>sha256/ab/abcdef…``.

The key is the digest, so a put must know the digest before it uploads: the
content is spooled (in memory up to ``spool_bytes``, then to a temporary
file) while it is hashed, then uploaded with its content type and its
SHA-256 as metadata. Content larger than ``part_bytes`` goes up as a
multipart upload, one part at a time, so a put never holds more than one
part in memory. Reads stream and are hashed on the way through.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

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

__all__ = ["S3ArtifactStore"]

_MIB = 1024 * 1024
_MIN_PART = 5 * _MIB  # S3 refuses smaller parts, but for the last
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3ArtifactStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        session: aioboto3.Session,
        endpoint_url: str | None = None,
        spool_bytes: int = 8 * _MIB,
        part_bytes: int = 16 * _MIB,
        chunk_size: int = _MIB,
    ) -> None:
        if part_bytes < _MIN_PART:
            raise ValueError(f"S3 parts are at least {_MIN_PART} bytes")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self._session = session
        # Servers other than AWS (MinIO, moto, Ceph) rarely resolve bucket subdomains.
        self._config = AioConfig(s3={"addressing_style": "path"}) if endpoint_url else None
        self._spool_bytes = spool_bytes
        self._part_bytes = part_bytes
        self._chunk_size = chunk_size
        self._exit = contextlib.AsyncExitStack()
        self._s3: Any = None

    def __repr__(self) -> str:
        return f"S3ArtifactStore(s3://{self.bucket}/{self.prefix}, endpoint={self.endpoint_url!r})"

    async def _client(self) -> Any:
        # One client (and its connection pool) for the store's life, made on first use.
        if self._s3 is None:
            self._s3 = await self._exit.enter_async_context(
                self._session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
            )
        return self._s3

    def _key(self, ref: ArtifactRef) -> str:
        return self.prefix + object_key(ref)

    def _backend_errors(self, key: str) -> contextlib.AbstractContextManager[None]:
        return backend_errors(f"s3://{self.bucket}/{key}", ClientError, BotoCoreError)

    async def put(self, content: Content, content_type: str = DEFAULT_CONTENT_TYPE) -> ArtifactRef:
        with tempfile.SpooledTemporaryFile(max_size=self._spool_bytes) as spool:
            ref = await copy_hashed(
                content, content_type, lambda chunk: asyncio.to_thread(spool.write, chunk)
            )
            key = self._key(ref)
            s3 = await self._client()
            with self._backend_errors(key):
                if await self._stored_size(s3, key) == ref.size:
                    return ref  # content-addressed: same name, same bytes
                spool.seek(0)
                fields = {
                    "Bucket": self.bucket,
                    "Key": key,
                    "ContentType": content_type,
                    "Metadata": {"sha256": ref.hex},
                }
                if ref.size <= self._part_bytes:
                    body = await asyncio.to_thread(spool.read)
                    # A file-like body: aiohttp warns that raw bytes may stall the loop.
                    await s3.put_object(Body=io.BytesIO(body), **fields)
                else:
                    await self._put_in_parts(s3, spool, fields)
        return ref

    async def _put_in_parts(self, s3: Any, spool: IO[bytes], fields: dict[str, Any]) -> None:
        upload = await s3.create_multipart_upload(**fields)
        where = {"Bucket": self.bucket, "Key": fields["Key"], "UploadId": upload["UploadId"]}
        try:
            parts: list[dict[str, Any]] = []
            while part := await asyncio.to_thread(spool.read, self._part_bytes):
                number = len(parts) + 1
                answer = await s3.upload_part(PartNumber=number, Body=io.BytesIO(part), **where)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            await s3.complete_multipart_upload(MultipartUpload={"Parts": parts}, **where)
        except BaseException:
            # An abandoned upload keeps its parts (and costs) until aborted.
            with contextlib.suppress(ClientError, BotoCoreError):
                await s3.abort_multipart_upload(**where)
            raise

    async def _stored_size(self, s3: Any, key: str) -> int | None:
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    async def open(self, ref: ArtifactRef) -> AsyncIterator[bytes]:
        key = self._key(ref)
        s3 = await self._client()
        with self._backend_errors(key):
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    raise ArtifactNotFound(ref) from None
                raise
            body = response["Body"]
            async with (
                body,
                contextlib.aclosing(verified(ref, body.iter_chunks(self._chunk_size))) as chunks,
            ):
                async for chunk in chunks:
                    yield chunk

    async def get(self, ref: ArtifactRef) -> bytes:
        return b"".join([chunk async for chunk in self.open(ref)])

    async def exists(self, ref: ArtifactRef) -> bool:
        key = self._key(ref)
        s3 = await self._client()
        with self._backend_errors(key):
            return await self._stored_size(s3, key) is not None

    async def aclose(self) -> None:
        await self._exit.aclose()
        self._s3 = None
