"""The synaps domain: aggregates, events and pure rules. Imports nothing of ours."""
