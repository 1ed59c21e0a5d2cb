"""Adapters: one module per backend behind a small protocol."""
