"""Artifact stores: content-addressed bytes on the local file system or in S3."""
