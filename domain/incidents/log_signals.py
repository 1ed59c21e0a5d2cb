"""What a container's log says about why it stopped.

Only the tail of a log is read, newest line first: the last thing a process
printed before dying is what killed it, and a retry that later succeeded
("connected to ...") is not a cause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from msgspec import Struct

__all__ = [
    "LogCause",
    "LogVerdict",
    "connection_error",
    "dependency_host",
    "fatal_line",
    "read_log_tail",
]


class LogCause(StrEnum):
    EXEC = "exec"
    PERMISSION = "permission"
    DEPENDENCY = "dependency"
    OUT_OF_MEMORY = "out_of_memory"


_EXEC = re.compile(
    r"exec format error|executable file not found|exec: \"[^\"]+\": (?:stat|permission)"
    r"|^exec [^:]+: no such file or directory|: not found$|cannot execute binary file"
    r"|no such file or directory: unknown|OCI runtime (?:create|exec) failed"
    r"|can't open file '[^']+': \[Errno 2\]|Error: Cannot find module '/"
    r"|Could not find or load main class|Unable to access jarfile",
    re.IGNORECASE,
)
_PERMISSION = re.compile(
    r"read-only file system|\bEROFS\b|permission denied(?! for (?:table|relation|schema|database|"
    r"sequence|function|view))|\bEACCES\b|operation not permitted|\bEPERM\b"
    r"|AccessDeniedException|runAsNonRoot|cannot (?:open|create|write)[^:]*: permission"
    r"|is forbidden: User \"system:serviceaccount",
    re.IGNORECASE,
)
_DEPENDENCY = re.compile(
    r"connection refused|ECONNREFUSED|no such host|name or service not known"
    r"|temporary failure in name resolution|\bENOTFOUND\b|could not translate host name"
    r"|could not resolve host|UnknownHostException|i/o timeout|\bETIMEDOUT\b"
    r"|connection timed out|timed out (?:while )?connecting|could not connect to server"
    r"|can't connect to (?:mysql|local mysql) server|no route to host|\bEHOSTUNREACH\b"
    r"|java\.net\.ConnectException|communications link failure|error 111 connecting"
    r"|ServerSelectionTimeoutError|MongoServerSelectionError|NoBrokersAvailable"
    r"|failed to connect to|unable to connect to|connect: network is unreachable"
    r"|dial tcp [^ ]+: (?:connect|lookup|i/o)|could not be established|Broker may not be available",
    re.IGNORECASE,
)
_OUT_OF_MEMORY = re.compile(
    r"java\.lang\.OutOfMemoryError|JavaScript heap out of memory|MemoryError\b"
    r"|fatal error: runtime: out of memory|Cannot allocate memory",
    re.IGNORECASE,
)
_RECOVERED = re.compile(
    r"\b(?:connected to|connection established|successfully connected|reconnected"
    r"|ready to accept connections|connection (?:restored|recovered))\b",
    re.IGNORECASE,
)
_ERRORISH = re.compile(
    r"panic|fatal|error|exception|traceback|failed|failure|cannot|can't|unable|invalid"
    r"|unknown (?:flag|option|command)|flag provided but not defined|usage:|refused|denied"
    r"|not found|no such|exit(?:ed|ing)? with|aborting|critical|segmentation fault|killed",
    re.IGNORECASE,
)
# An application failure that explains itself: when it comes after a connection or
# permission error, the process died of this, not of the earlier error.
_OWN_FAILURE = re.compile(
    r"^panic:|nil pointer dereference|index out of range|Segmentation fault|NullPointerException"
    r"|\b(?:KeyError|TypeError|ValueError|AttributeError|IndexError|NameError|SyntaxError"
    r"|ZeroDivisionError|ImportError|ModuleNotFoundError|ReferenceError)\b"
    r"|is not a function|unknown flag|flag provided but not defined|IllegalArgumentException"
    r"|IllegalStateException|ClassCastException|NumberFormatException",
)
_BENIGN_ERROR = re.compile(r"\berror[s]?[=:]\s*(?:0|none|null|false)\b|0 errors", re.IGNORECASE)

_PATTERNS = (
    (LogCause.EXEC, _EXEC),
    (LogCause.OUT_OF_MEMORY, _OUT_OF_MEMORY),
    (LogCause.PERMISSION, _PERMISSION),
    (LogCause.DEPENDENCY, _DEPENDENCY),
)
TAIL_LINES = 40
# A single connection error counts only this close to the end of the log.
_NEAR_END = 10


class LogVerdict(Struct, frozen=True, kw_only=True):
    cause: LogCause
    line: str
    hits: int = 1


def _clip(line: str, limit: int = 300) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def read_log_tail(lines: Sequence[str]) -> LogVerdict | None:
    """The newest line in the tail naming a known cause, unless the process recovered after it."""
    tail = list(lines[-TAIL_LINES:])
    for index in range(len(tail) - 1, -1, -1):
        line = tail[index]
        for cause, pattern in _PATTERNS:
            if not pattern.search(line):
                continue
            later = tail[index + 1 :]
            hits = sum(1 for x in tail if pattern.search(x))
            if cause in (LogCause.DEPENDENCY, LogCause.PERMISSION) and any(
                _OWN_FAILURE.search(x) for x in later
            ):
                return None  # it went on, then died of its own error
            if cause is LogCause.DEPENDENCY:
                if any(_RECOVERED.search(x) for x in later):
                    return None  # a retry that got through: not why the process died
                if hits < 2 and len(later) > _NEAR_END:
                    continue  # one old hiccup far from the end explains nothing
            return LogVerdict(cause=cause, line=_clip(line), hits=hits)
    return None


def connection_error(line: str) -> bool:
    """Whether ``line`` reports a dependency that cannot be reached (refused, unknown
    host, timeout), wherever it stands in the log."""
    return _DEPENDENCY.search(line) is not None


def fatal_line(lines: Sequence[str]) -> str | None:
    """The last line of the tail that reads like an error (what a human quotes first)."""
    for line in reversed(lines[-TAIL_LINES:]):
        if _ERRORISH.search(line) and not _BENIGN_ERROR.search(line):
            return _clip(line)
    return None


_HOST_PORT = (
    re.compile(r"dial tcp (?:\[[^\]]+\]|[\w.-]+):(\d+)"),
    re.compile(r"server at \"([\w.-]+)\"(?: \([\d.]+\))?, port (\d+)"),
    re.compile(r"lookup ([\w.-]+)(?: on [\d.:]+)?: no such host"),
    re.compile(
        r"(?:ECONNREFUSED|ETIMEDOUT|connect to|connecting to|Connection to) ([\w.-]+):(\d+)"
    ),
    re.compile(r"\b([a-z][\w-]*(?:\.[\w-]+)*):(\d{2,5})\b"),
    re.compile(r"\b((?:\d{1,3}\.){3}\d{1,3}):(\d{2,5})\b"),
)
_DIAL = re.compile(r"dial tcp ([\w.-]+):(\d+)")


def dependency_host(line: str) -> tuple[str, str]:
    """(host, port) named by a connection error line; either may be empty."""
    if m := _DIAL.search(line):
        return m.group(1), m.group(2)
    for pattern in _HOST_PORT:
        m = pattern.search(line)
        if m is None:
            continue
        groups = m.groups()
        if len(groups) == 1:
            if groups[0].isdigit():
                continue
            return groups[0], ""
        return groups[0], groups[1]
    return "", ""
