"""Kubernetes incident diagnosis: the evidence model, its rules and the taxonomy. Pure."""
