"""Use cases: submit, queue, runs. They import the domain and ports, not adapters."""
