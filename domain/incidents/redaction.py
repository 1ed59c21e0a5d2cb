"""Take secrets and personal data out of text before it leaves for a model provider.

Each rule is a named pattern; a match is replaced by ``[REDACTED:<name>]``,
keeping any prefix group (``password=``, ``Bearer ``, ``scheme://user:``) so the
line still reads. Rules are data: add, drop or replace them per deployment.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from msgspec import Struct

__all__ = ["DEFAULT_RULES", "RedactionRule", "Redactor"]

T = TypeVar("T")


class RedactionRule(Struct, frozen=True, kw_only=True):
    name: str
    pattern: str
    # Number of leading groups to keep verbatim (a key, a scheme and user, ...).
    keep_groups: int = 0
    # Only redact matches whose secret part has at least this Shannon entropy (bits/char).
    min_entropy: float = 0.0


_KEYS = r"password|passwd|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
_KEYS += r"|auth[_-]?token|access[_-]?token|refresh[_-]?token|private[_-]?key|token|credentials?"

DEFAULT_RULES: tuple[RedactionRule, ...] = (
    RedactionRule(
        name="private_key",
        pattern=r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    ),
    RedactionRule(name="jwt", pattern=r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"),
    RedactionRule(
        name="bearer_token",
        pattern=r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}",
        keep_groups=1,
    ),
    RedactionRule(name="aws_access_key", pattern=r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"),
    RedactionRule(
        name="aws_secret_key",
        pattern=r"(?i)(aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{30,}",
        keep_groups=1,
    ),
    RedactionRule(
        name="url_password",
        pattern=r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)",
        keep_groups=1,
    ),
    RedactionRule(
        name="assigned_secret",
        pattern=rf"(?i)(\b[\w.-]*(?:{_KEYS})[\w.-]*[\"']?\s*=\s*[\"']?)[^\s\"',;&]{{3,}}",
        keep_groups=1,
    ),
    RedactionRule(
        name="quoted_secret",
        pattern=rf"(?i)([\"'][\w.-]*(?:{_KEYS})[\w.-]*[\"']\s*:\s*[\"'])[^\"']{{3,}}(?=[\"'])",
        keep_groups=1,
    ),
    RedactionRule(
        name="yaml_secret",
        pattern=r"(?im)(^\s*[\w.-]*(?:password|passwd|secret|api[_-]?key)[\w.-]*:\s+)[^\s#]{3,}",
        keep_groups=1,
    ),
    RedactionRule(
        name="vendor_token",
        pattern=r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bsk-[A-Za-z0-9_-]{20,}"
        r"|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_\w{30,}|\bxox[abprs]-[\w-]{10,}"
        r"|\bAIza[\w-]{35}|\bglpat-[\w-]{20,}",
    ),
    RedactionRule(
        name="high_entropy",
        pattern=r"(?<![\w/+=.-])(?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Z])"
        r"(?=[A-Za-z0-9_+/=-]*[a-z])[A-Za-z0-9_+/=-]{32,}(?![\w/+=.-])",
        min_entropy=4.2,
    ),
    RedactionRule(
        name="email",
        pattern=r"(?<![\w.+/%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    ),
)
# Names the analyzer itself must be able to quote: Secret names, field paths.
_KEY_NAMES_NOT_SECRETS = re.compile(r"(?i)(?:name|ref|file|path|id|count|length|ttl)[\"']?\s*[:=]")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


class Redactor:
    def __init__(self, rules: Iterable[RedactionRule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        self._compiled = [(rule, re.compile(rule.pattern)) for rule in self.rules]

    def with_rules(self, *extra: RedactionRule) -> Redactor:
        return Redactor((*self.rules, *extra))

    def without(self, *names: str) -> Redactor:
        return Redactor(r for r in self.rules if r.name not in names)

    def _replacer(self, rule: RedactionRule) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            kept = "".join(match.group(i) or "" for i in range(1, rule.keep_groups + 1))
            if rule.keep_groups and _KEY_NAMES_NOT_SECRETS.search(kept):
                return match.group(0)
            secret = match.group(0)[len(kept) :]
            if rule.min_entropy and _entropy(secret) < rule.min_entropy:
                return match.group(0)
            return f"{kept}[REDACTED:{rule.name}]"

        return replace

    def redact(self, text: str) -> str:
        for rule, pattern in self._compiled:
            text = pattern.sub(self._replacer(rule), text)
        return text

    def redact_data(self, value: Any) -> Any:
        """Every string in a JSON-like structure (keys stay: they are field names)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list | tuple):
            return [self.redact_data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.redact_data(v) for k, v in value.items()}
        return value

    def redact_struct(self, value: T) -> T:
        """A copy of a msgspec Struct with every string in it redacted."""
        cleaned = self.redact_data(msgspec.to_builtins(value))
        return msgspec.convert(cleaned, type(value))
