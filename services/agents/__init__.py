"""The DevOps agent pack: Planner, EvidenceCollector, IncidentAgent, DevOps and Reviewer
as a chain of tasks, each claimed, run and completed through the queue."""
