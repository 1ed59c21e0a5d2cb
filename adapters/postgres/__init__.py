"""PostgreSQL: the ledger (event store), inline read models, migrations."""
