"""A stored artifact, named by its content: what events and outcomes point at."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

__all__ = ["DIGEST_PATTERN", "ArtifactRef", "Digest"]

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"

Digest = Annotated[str, Meta(pattern=DIGEST_PATTERN, description="sha256:<64 lower-case hex>")]


class ArtifactRef(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The same bytes always get the same ref, whichever store holds them."""

    digest: Digest
    size: Annotated[int, Meta(ge=0)]
    content_type: Annotated[str, Meta(min_length=1, max_length=255)] = "application/octet-stream"

    @property
    def hex(self) -> str:
        return self.digest.removeprefix("sha256:")
