"""What a rule concludes: a root cause for some pods, how sure, and the facts it used."""

from __future__ import annotations

from msgspec import Struct, field

from domain.incidents.taxonomy import RootCause

__all__ = ["Finding"]


class Finding(Struct, frozen=True, kw_only=True):
    cause: RootCause
    confidence: float
    evidence: tuple[str, ...]
    pods: tuple[str, ...] = ()
    container: str = ""
    # False when the pods have recovered and only a recent past failure is left.
    current: bool = True
    # Names the remediation needs (image, limit, secret, node, service, ...).
    facts: dict[str, str] = field(default_factory=dict)

    def merged_with(self, other: Finding) -> Finding:
        """The same cause seen on another pod: one finding, more pods, more evidence."""
        pods = tuple(dict.fromkeys(self.pods + other.pods))
        evidence = tuple(dict.fromkeys(self.evidence + other.evidence))
        return Finding(
            cause=self.cause,
            confidence=max(self.confidence, other.confidence),
            evidence=evidence,
            pods=pods,
            container=self.container or other.container,
            current=self.current or other.current,
            facts={**other.facts, **self.facts},
        )
