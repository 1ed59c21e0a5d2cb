"""A local embedder: feature hashing of word unigrams and bigrams, no model, no network.

Why this is good enough for incident memory: what we look for is *the same
failure again*, and Kubernetes says the same failure in the same words every
time — event reasons (``Back-off restarting failed container``), termination
reasons (``OOMKilled``, ``exitCode=137``), probe messages, the line a crashing
app logs before it exits. Once :func:`domain.incident_fingerprint.normalise_line`
has removed what varies (times, addresses, counters, pod hashes), two
occurrences share most of their words and word pairs, and their hashed vectors
have a cosine near 1; unrelated failures share a few generic words and stay
low. What it cannot do is find paraphrases ("ran out of memory" vs
"OOMKilled"); a provider's embeddings (``SYNAPS_EMBEDDINGS=openai:...``) can.

The vector: each feature (a word, or two adjacent words of one line) is hashed
with BLAKE2b into one of ``dimensions`` buckets with a sign taken from the same
hash (signed hashing keeps collisions from adding up to a bias), weighted
``1 + ln(count)`` so a word repeated on many lines does not dominate, and the
whole is scaled to unit length. Deterministic across processes and releases:
the name carries a version that changes if the features ever do.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"<\w+>|[a-z0-9]+")


def _features(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in text.lower().splitlines():
        words = _WORD.findall(line)
        counts.update(words)
        counts.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return counts


class HashingEmbedder:
    """Text to a signed, L2-normalised hashed bag of unigrams and bigrams."""

    def __init__(self, dimensions: int = 256) -> None:
        if dimensions < 16:
            raise ValueError("a hashing embedder needs at least 16 dimensions")
        self.dimensions = dimensions
        self.name = f"hashing-v1-{dimensions}"

    def vector(self, text: str) -> list[float]:
        """The embedding, synchronously (it is pure arithmetic). Text without words
        gives the zero vector, which is similar to nothing."""
        vector = [0.0] * self.dimensions
        for feature, count in _features(text).items():
            digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest())
            sign = 1.0 if digest >> 63 else -1.0
            vector[digest % self.dimensions] += sign * (1.0 + math.log(count))
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else vector

    async def embed(self, text: str) -> list[float]:
        return self.vector(text)
