"""Prompts of the control registry: the active template of a name, filled with variables.

Shared by the ``prompt`` task kind and the agent pack, so a template renders the
same wherever it is used.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from services.task_kinds import TaskError

__all__ = ["active_template", "render"]


def active_template(snapshot: Any, name: str) -> str | None:
    """The active version's template of prompt ``name``; None without a snapshot or prompt."""
    spec = snapshot.spec("prompt", name) if snapshot is not None else None
    return None if spec is None else str(spec["template"])


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders; a missing variable is the caller's mistake."""
    try:
        return string.Formatter().vformat(template, (), dict(variables))
    except KeyError as exc:
        raise TaskError(f"the prompt needs variable {exc.args[0]!r}", retryable=False) from None
    except (IndexError, ValueError) as exc:
        raise TaskError(f"cannot render the prompt: {exc}", retryable=False) from None
