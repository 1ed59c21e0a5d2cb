"""Read models derived from the ledger."""
