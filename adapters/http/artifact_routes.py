"""Download artifacts: the bytes of a version, streamed from the artifact store."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from adapters.http.problems import problem_responses
from adapters.http.services import Svc, caller_of
from domain.artifact import Artifact
from domain.errors import InvalidArgument, NotFound
from schemas.artifacts import ArtifactRef
from services.artifacts import DEFAULT_CONTENT_TYPE

__all__ = ["download_artifact", "upload_artifact"]


@get(
    "/v1/artifacts/{artifact_id:uuid}",
    tags=["artifacts"],
    summary="Download an artifact",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def download_artifact(
    artifact_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    version: Annotated[int | None, QueryParameter(ge=1, description="Default: the latest")] = None,
) -> Stream:
    """The content of a version (by default the latest), with its content type."""
    artifact: Artifact = svc.ledger.get(artifact_id, Artifact)
    if artifact.tenant != caller_of(request).tenant or not artifact.versions:
        raise NotFound("artifact", artifact_id)
    chosen = (
        artifact.versions[-1]
        if version is None
        else next((v for v in artifact.versions if v.version == version), None)
    )
    if chosen is None:
        raise NotFound(f"artifact {artifact_id} version", version)
    ref = ArtifactRef(digest=chosen.digest, size=chosen.size, content_type=chosen.content_type)
    return Stream(
        svc.artifacts.open(ref),
        media_type=chosen.content_type,
        headers={
            "Content-Length": str(chosen.size),
            "Digest": f"sha-256={chosen.digest.removeprefix('sha256:')}",
            "Content-Disposition": f'inline; filename="{artifact.name}"',
        },
    )


MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@post(
    "/v1/artifacts",
    tags=["artifacts"],
    status_code=201,
    summary="Upload content for a command to use",
    request_max_body_size=MAX_UPLOAD_BYTES,
    responses=problem_responses(400, 401, 403, 413, 422, 429, 503),
)
async def upload_artifact(request: Request[Any, Any, Any], svc: Svc) -> ArtifactRef:
    """Store the request body by its SHA-256 and answer its reference, to pass in a
    command's input (e.g. `synaps ask --dump` uploads the evidence package). It
    becomes part of a run's record when a task of the run records it."""
    body = await request.body()
    if not body:
        raise InvalidArgument("an empty upload: send the content as the request body")
    content_type = request.headers.get("content-type") or DEFAULT_CONTENT_TYPE
    return await svc.artifacts.put(body, content_type[:255])
