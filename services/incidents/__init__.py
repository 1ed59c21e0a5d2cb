"""The DevOps agent pack's incident use cases: plan, collect evidence, diagnose."""
