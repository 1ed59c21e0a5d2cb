"""NATS: wakeups for workers and control-change invalidations (JetStream)."""
