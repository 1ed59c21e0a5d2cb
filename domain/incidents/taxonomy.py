"""The root-cause vocabulary of ``shared/incident-taxonomy.md``: ids are a public contract."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RootCause"]


class RootCause(StrEnum):
    OOM_KILLED = "oom_killed"
    CRASH_LOOP = "crash_loop"
    IMAGE_PULL_ERROR = "image_pull_error"
    IMAGE_PULL_AUTH = "image_pull_auth"
    LIVENESS_PROBE_FAILURE = "liveness_probe_failure"
    READINESS_PROBE_FAILURE = "readiness_probe_failure"
    DEPENDENCY_UNREACHABLE = "dependency_unreachable"
    CONFIG_MISSING = "config_missing"
    UNSCHEDULABLE_RESOURCES = "unschedulable_resources"
    UNSCHEDULABLE_AFFINITY_TAINT = "unschedulable_affinity_taint"
    PVC_PENDING = "pvc_pending"
    VOLUME_MOUNT_FAILURE = "volume_mount_failure"
    EVICTED_NODE_PRESSURE = "evicted_node_pressure"
    INIT_CONTAINER_FAILURE = "init_container_failure"
    INVALID_COMMAND_OR_ENTRYPOINT = "invalid_command_or_entrypoint"
    PERMISSION_DENIED = "permission_denied"
    NODE_NOT_READY = "node_not_ready"
    RESOURCE_QUOTA_EXCEEDED = "resource_quota_exceeded"
    SERVICE_SELECTOR_MISMATCH = "service_selector_mismatch"
    HEALTHY = "healthy"
    # Reserved by the contract; the analyzer never answers it.
    UNKNOWN = "unknown"
