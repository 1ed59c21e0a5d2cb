"""SYNAPS_ARTIFACTS_URL and the AWS variables pick and configure the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.artifacts.filesystem import FilesystemArtifactStore
from adapters.artifacts.s3 import S3ArtifactStore
from adapters.artifacts.store_url import artifact_store_from_env, open_artifact_store
from schemas.artifacts import ArtifactRef
from services.artifacts import ArtifactStoreConfigError, InvalidArtifactRef, object_key


def test_a_file_url_is_a_directory() -> None:
    store = open_artifact_store("file:///var/lib/synaps%20data/artifacts")
    assert isinstance(store, FilesystemArtifactStore)
    assert store.root == Path("/var/lib/synaps data/artifacts")


def test_no_url_means_the_default_directory(tmp_path: Path) -> None:
    store = artifact_store_from_env(tmp_path / "artifacts", environ={})
    assert isinstance(store, FilesystemArtifactStore)
    assert store.root == tmp_path / "artifacts"


def test_an_s3_url_is_a_bucket_with_endpoint_from_the_environment() -> None:
    environ = {
        "SYNAPS_ARTIFACTS_URL": "s3://synaps-artifacts/prod/eu/",
        "AWS_ENDPOINT_URL": "http://minio:9000",
        "AWS_REGION": "eu-central-1",
    }
    store = artifact_store_from_env(Path("/unused"), environ)
    assert isinstance(store, S3ArtifactStore)
    assert (store.bucket, store.prefix, store.endpoint_url) == (
        "synaps-artifacts",
        "prod/eu/",
        "http://minio:9000",
    )

    ours = open_artifact_store(
        "s3://synaps-artifacts", {**environ, "SYNAPS_S3_ENDPOINT_URL": "http://s3.local:7480"}
    )
    assert isinstance(ours, S3ArtifactStore)
    assert (ours.prefix, ours.endpoint_url) == ("", "http://s3.local:7480")

    aws = open_artifact_store("s3://synaps-artifacts/x", {})
    assert isinstance(aws, S3ArtifactStore)
    assert aws.endpoint_url is None


@pytest.mark.parametrize(
    "url",
    [
        "file://relative/path",
        "file://otherhost/var/lib",
        "s3://Bad_Bucket/x",
        "s3:///no-bucket",
        "gs://bucket/x",
        "/var/lib/synaps",
    ],
)
def test_unusable_urls_are_refused_with_the_url_in_the_message(url: str) -> None:
    with pytest.raises(ArtifactStoreConfigError) as refused:
        open_artifact_store(url, {})
    assert repr(url) in str(refused.value)


def test_object_keys_fan_out_by_the_first_byte() -> None:
    ref = ArtifactRef(digest="sha256:" + "ab" * 32, size=1)
    assert object_key(ref) == "sha256/ab/" + "ab" * 32
    with pytest.raises(InvalidArtifactRef):
        object_key(ArtifactRef(digest="sha256:../" + "a" * 61, size=1))
