"""synaps: the composition root (settings, wiring, CLI, dev stack)."""

__version__ = "0.1.0"
