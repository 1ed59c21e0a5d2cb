"""Kubernetes evidence sources: a kubectl JSON dump directory and a live cluster."""
