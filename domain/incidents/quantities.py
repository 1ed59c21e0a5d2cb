"""Kubernetes resource quantities ("500m", "256Mi", "1.5G") as numbers, for comparing a
memory limit with a JVM heap or a pod's requests with a node's allocatable."""

from __future__ import annotations

import re

__all__ = ["cpu_cores", "jvm_size_bytes", "memory_bytes"]

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
_DECIMAL |= {"T": 1e12, "P": 1e15, "E": 1e18}
_QUANTITY = re.compile(r"^\s*([0-9.]+(?:[eE][+-]?\d+)?)\s*([A-Za-z]{0,2})\s*$")
# JVM sizes: -Xmx2g, -Xmx512m, -Xmx1024k, -Xmx2147483648
_JVM_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def _scaled(text: str) -> float | None:
    match = _QUANTITY.match(str(text))
    if match is None:
        return None
    number, suffix = float(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return None


def memory_bytes(text: str | None) -> float | None:
    return None if text is None else _scaled(text)


def cpu_cores(text: str | None) -> float | None:
    return None if text is None else _scaled(text)


def jvm_size_bytes(text: str) -> float | None:
    match = re.fullmatch(r"(\d+)([kKmMgGtT]?)", text)
    if match is None:
        return None
    return int(match.group(1)) * _JVM_UNITS[match.group(2).lower()]
