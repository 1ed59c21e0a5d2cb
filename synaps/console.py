"""Where the command line writes: results to stdout, errors (one line) to stderr."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["err", "fail", "out"]

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
