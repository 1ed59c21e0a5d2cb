"""The audit seal: a SHA-256 chain over every event's stored bytes, in log order.

Changing, removing, inserting or reordering any sealed event changes every
seal from that position on, so a verifier finds the first position where the
ledger no longer matches what was sealed.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

__all__ = ["GENESIS", "next_seal"]

GENESIS = bytes(32)


def next_seal(
    previous: bytes,
    position: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    digest = hashlib.sha256(previous)
    digest.update(position.to_bytes(8, "big"))
    digest.update(originator_id.bytes)
    digest.update(originator_version.to_bytes(8, "big"))
    digest.update(topic.encode())
    digest.update(b"\x00")
    digest.update(state)
    return digest.digest()
