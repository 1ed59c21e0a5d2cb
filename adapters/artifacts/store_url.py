"""Which artifact store to use, from ``SYNAPS_ARTIFACTS_URL`` and the AWS environment.

``file:///var/lib/synaps/artifacts`` is a directory; ``s3://bucket/prefix`` a
bucket, with the endpoint from ``SYNAPS_S3_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL`` (unset: AWS itself), the region from ``AWS_REGION``
(default us-east-1) and the credentials from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (unset: botocore's usual chain, e.g. an IAM role).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from adapters.artifacts.filesystem import FilesystemArtifactStore
from services.artifacts import ArtifactStore, ArtifactStoreConfigError

__all__ = ["artifact_store_from_env", "open_artifact_store"]

# S3's own rule: 3-63 of lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def open_artifact_store(url: str, environ: Mapping[str, str] = os.environ) -> ArtifactStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ArtifactStoreConfigError(
                f"{url!r}: a file URL needs an absolute path, as in file:///var/lib/synaps"
            )
        return FilesystemArtifactStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not _BUCKET.fullmatch(parts.netloc):
            raise ArtifactStoreConfigError(f"{url!r}: {parts.netloc!r} is not an S3 bucket name")
        return _s3_store(parts.netloc, unquote(parts.path), environ)
    raise ArtifactStoreConfigError(
        f"{url!r}: artifact stores are file:///path or s3://bucket/prefix"
    )


def artifact_store_from_env(
    default_root: Path, environ: Mapping[str, str] = os.environ
) -> ArtifactStore:
    """``SYNAPS_ARTIFACTS_URL``, or a directory at ``default_root`` when it is unset."""
    url = environ.get("SYNAPS_ARTIFACTS_URL")
    if not url:
        return FilesystemArtifactStore(default_root)
    return open_artifact_store(url, environ)


def _s3_store(bucket: str, prefix: str, environ: Mapping[str, str]) -> ArtifactStore:
    # aioboto3 takes about a second to import: only a process that uses S3 pays for it.
    import aioboto3

    from adapters.artifacts.s3 import S3ArtifactStore

    session = aioboto3.Session(
        aws_access_key_id=environ.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=environ.get("AWS_SESSION_TOKEN") or None,
        region_name=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    endpoint = environ.get("SYNAPS_S3_ENDPOINT_URL") or environ.get("AWS_ENDPOINT_URL") or None
    return S3ArtifactStore(bucket, prefix, session=session, endpoint_url=endpoint)
