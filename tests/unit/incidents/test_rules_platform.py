"""Causes outside the process: images, config, scheduling, storage, nodes, quotas, Services."""

from __future__ import annotations

import pytest

from domain.incidents.cluster import (
    NodeEvidence,
    PvcEvidence,
    QuotaEvidence,
    ServiceEvidence,
    ServicePortFact,
    TaintFact,
    WorkloadEvidence,
)
from domain.incidents.diagnosis import diagnose
from domain.incidents.pods import Condition, EnvFact, VolumeFact
from domain.incidents.rules.scheduling import classify_scheduling_message
from domain.incidents.taxonomy import RootCause
from tests.unit.incidents.builders import (
    ago,
    container,
    event,
    package,
    pod,
    running,
    terminated,
    waiting,
)

PULL_FAILED = 'Failed to pull image "r.test/app:2": rpc error: code = {detail}'


def pulling(detail: str, **pod_fields: object) -> RootCause:
    app = container(state=waiting("ImagePullBackOff", 'Back-off pulling image "r.test/app:2"'))
    events = (event("Failed", PULL_FAILED.format(detail=detail), about="app-1"),)
    return diagnose(
        package(pod("app-1", app, phase="Pending", **pod_fields), events=events), ["app"]
    ).root_cause.cause


def test_a_missing_tag_is_an_image_pull_error() -> None:
    assert pulling("NotFound desc = r.test/app:2: not found") is RootCause.IMAGE_PULL_ERROR


@pytest.mark.parametrize(
    "detail",
    [
        "Unknown desc = failed to fetch anonymous token: unexpected status: 401 Unauthorized",
        "Unknown desc = unexpected status from HEAD request: 403 Forbidden",
        "Unknown desc = pull access denied, repository does not exist or may require authorization",
    ],
)
def test_a_refused_pull_is_an_auth_problem(detail: str) -> None:
    assert pulling(detail) is RootCause.IMAGE_PULL_AUTH


def test_a_missing_secret_is_config_missing_with_its_name() -> None:
    app = container(
        state=waiting("CreateContainerConfigError", 'secret "db-creds" not found'),
        env=(EnvFact(name="DB_URL", secret="db-creds", key="url"),),
    )
    result = diagnose(package(pod("app-1", app, phase="Pending")), ["app"]).root_cause
    assert result.cause is RootCause.CONFIG_MISSING
    assert result.confidence >= 0.9
    assert any('secret "db-creds" not found' in e for e in result.evidence)


def test_run_as_non_root_with_a_root_image_is_permission_denied() -> None:
    message = "container has runAsNonRoot and image will run as root (pod: x, container: app)"
    app = container(state=waiting("CreateContainerConfigError", message))
    result = diagnose(package(pod("app-1", app, phase="Pending")), ["app"]).root_cause
    assert result.cause is RootCause.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            "0/4 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 3 Insufficient memory. preemption: "
            "0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
            RootCause.UNSCHEDULABLE_RESOURCES,
        ),
        (
            "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}.",
            RootCause.UNSCHEDULABLE_AFFINITY_TAINT,
        ),
        (
            "0/5 nodes are available: 2 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node "
            "affinity/selector.",
            RootCause.UNSCHEDULABLE_AFFINITY_TAINT,
        ),
        (
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod "
            "anti-affinity rules.",
            RootCause.UNSCHEDULABLE_RESOURCES,
        ),
        (
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
            RootCause.PVC_PENDING,
        ),
        ("0/2 nodes are available: 2 Too many pods.", RootCause.UNSCHEDULABLE_RESOURCES),
    ],
)
def test_scheduler_messages_name_the_binding_constraint(message: str, cause: RootCause) -> None:
    assert classify_scheduling_message(message) is cause


def unscheduled(**fields: object) -> object:
    return pod(
        "app-1",
        container(has_status=False, state=waiting(""), ready=False, requests={"memory": "64Gi"}),
        phase="Pending",
        node_name="",
        conditions=(Condition(type="PodScheduled", status="False", reason="Unschedulable"),),
        **fields,
    )


def test_a_pod_too_big_for_any_node_is_unschedulable_for_resources() -> None:
    nodes = (NodeEvidence(name="w1", allocatable={"cpu": "4", "memory": "16Gi"}),)
    events = (
        event(
            "FailedScheduling",
            "0/1 nodes are available: 1 Insufficient memory.",
            about="app-1",
        ),
    )
    result = diagnose(package(unscheduled(), events=events, nodes=nodes), ["app"]).root_cause
    assert result.cause is RootCause.UNSCHEDULABLE_RESOURCES
    assert any("Insufficient memory" in e for e in result.evidence)
    assert any("requests cpu=0 memory=64Gi" in e for e in result.evidence)


def test_a_claim_with_a_missing_storage_class_is_pvc_pending() -> None:
    claim = PvcEvidence(name="data", phase="Pending", storage_class="fast")
    events = (
        event(
            "FailedScheduling",
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
            about="app-1",
        ),
        event(
            "ProvisioningFailed",
            'storageclass.storage.k8s.io "fast" not found',
            kind="PersistentVolumeClaim",
            about="data",
        ),
    )
    target = unscheduled(
        volumes=(VolumeFact(name="d", kind="persistentVolumeClaim", source="data"),)
    )
    result = diagnose(package(target, events=events, pvcs=(claim,)), ["app"]).root_cause
    assert result.cause is RootCause.PVC_PENDING
    assert any('storageclass.storage.k8s.io "fast" not found' in e for e in result.evidence)


def test_a_claim_waiting_for_its_first_consumer_does_not_hide_a_full_cluster() -> None:
    claim = PvcEvidence(name="data", phase="Pending", storage_class="gp3")
    events = (
        event("FailedScheduling", "0/2 nodes are available: 2 Insufficient cpu.", about="app-1"),
        event(
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
            kind="PersistentVolumeClaim",
            about="data",
            warning=False,
        ),
    )
    target = unscheduled(
        volumes=(VolumeFact(name="d", kind="persistentVolumeClaim", source="data"),)
    )
    result = diagnose(package(target, events=events, pvcs=(claim,)), ["app"]).root_cause
    assert result.cause is RootCause.UNSCHEDULABLE_RESOURCES


def test_multi_attach_on_a_scheduled_pod_is_a_volume_mount_failure() -> None:
    app = container(state=waiting("ContainerCreating"), ready=False)
    events = (
        event(
            "FailedAttachVolume",
            'Multi-Attach error for volume "pvc-1" Volume is already used',
            about="app-1",
        ),
    )
    result = diagnose(
        package(pod("app-1", app, phase="Pending"), events=events), ["app"]
    ).root_cause
    assert result.cause is RootCause.VOLUME_MOUNT_FAILURE


def test_a_benign_mount_warning_on_a_running_pod_is_ignored() -> None:
    events = (
        event(
            "FailedMount",
            'MountVolume.SetUp failed for volume "kube-api-access-x" : '
            'object "ns"/"kube-root-ca.crt" not registered',
            about="app-1",
        ),
    )
    result = diagnose(package(pod("app-1"), events=events), ["app"]).root_cause
    assert result.cause is RootCause.HEALTHY


def evicted(minutes_ago: float) -> object:
    return pod(
        "app-1",
        container(state=terminated("Error", 137, minutes_ago=minutes_ago), ready=False),
        phase="Failed",
        reason="Evicted",
        message="The node was low on resource: memory.",
        conditions=(
            Condition(
                type="DisruptionTarget",
                status="True",
                reason="TerminationByKubelet",
                last_transition=ago(minutes_ago),
            ),
        ),
    )


def test_a_recent_eviction_is_evicted_node_pressure() -> None:
    events = (event("Evicted", "The node was low on resource: memory.", about="app-1"),)
    result = diagnose(package(evicted(10), events=events), ["app"]).root_cause
    assert result.cause is RootCause.EVICTED_NODE_PRESSURE


def test_an_eviction_days_ago_next_to_a_healthy_replacement_is_not_an_incident() -> None:
    replacement = pod("app-2", container(state=running(60 * 24)))
    result = diagnose(package(evicted(60 * 24 * 3), replacement), ["app"]).root_cause
    assert result.cause is RootCause.HEALTHY


def test_pods_on_a_node_that_stopped_reporting_are_node_not_ready() -> None:
    node = NodeEvidence(
        name="node-1",
        conditions=(
            Condition(
                type="Ready",
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
            ),
        ),
        taints=(TaintFact(key="node.kubernetes.io/unreachable", effect="NoExecute"),),
    )
    stale = pod("app-1", container(state=running(), ready=True), ready=False)
    result = diagnose(package(stale, nodes=(node,)), ["app"]).root_cause
    assert result.cause is RootCause.NODE_NOT_READY
    assert any("Kubelet stopped posting node status." in e for e in result.evidence)


def quota_case(ready: int) -> RootCause:
    deployment = WorkloadEvidence(
        kind="Deployment", name="app", desired=3, ready=ready, current=ready
    )
    events = (
        event(
            "FailedCreate",
            'Error creating: pods "app-7d9f8c6b5-abcde" is forbidden: exceeded quota: team, '
            "requested: limits.memory=1Gi, used: limits.memory=4Gi, limited: limits.memory=4Gi",
            kind="ReplicaSet",
            about="app-7d9f8c6b5",
        ),
    )
    quota = QuotaEvidence(name="team", hard={"limits.memory": "4Gi"}, used={"limits.memory": "4Gi"})
    return diagnose(
        package(pod("app-1"), events=events, workloads=(deployment,), quotas=(quota,)), ["app"]
    ).root_cause.cause


def test_a_quota_that_blocks_replicas_is_resource_quota_exceeded() -> None:
    assert quota_case(ready=1) is RootCause.RESOURCE_QUOTA_EXCEEDED


def test_quota_rejections_are_history_once_every_replica_runs() -> None:
    assert quota_case(ready=3) is RootCause.HEALTHY


def test_a_service_that_selects_no_ready_pod_is_a_selector_mismatch() -> None:
    service = ServiceEvidence(
        name="app",
        selector={"app": "app-v2"},
        ports=(ServicePortFact(port=80, target_port=8080),),
        ready_addresses=(),
    )
    result = diagnose(package(pod("app-1"), services=(service,)), ["app"]).root_cause
    assert result.cause is RootCause.SERVICE_SELECTOR_MISMATCH
    assert any("app=app-v2" in e for e in result.evidence)


def test_a_named_target_port_the_pods_do_not_have_is_a_mismatch() -> None:
    app = container(ports=(8000,), port_names=("http",))
    service = ServiceEvidence(
        name="app",
        selector={"app": "app"},
        ports=(ServicePortFact(port=80, target_port="web"),),
        ready_addresses=(),
    )
    result = diagnose(package(pod("app-1", app), services=(service,)), ["app"]).root_cause
    assert result.cause is RootCause.SERVICE_SELECTOR_MISMATCH


def test_a_service_of_a_scaled_down_dependency_is_not_a_selector_mismatch() -> None:
    service = ServiceEvidence(name="db", selector={"app": "db"}, ready_addresses=())
    result = diagnose(package(pod("app-1"), services=(service,)), []).root_cause
    assert result.cause is RootCause.HEALTHY


def test_running_but_never_ready_is_a_readiness_failure() -> None:
    app = container(state=running(20), ready=False)
    events = (
        event(
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 404",
            about="app-1",
        ),
    )
    result = diagnose(package(pod("app-1", app), events=events), ["app"]).root_cause
    assert result.cause is RootCause.READINESS_PROBE_FAILURE
    assert result.confidence >= 0.7
    assert any("404" in e for e in result.evidence)


def test_a_failing_init_container_blocks_the_pod() -> None:
    init = container(
        "migrate",
        init=True,
        state=waiting("CrashLoopBackOff"),
        last_state=terminated("Error", 1),
        restart_count=4,
        ready=False,
    )
    app = container(state=waiting("PodInitializing"), ready=False)
    target = pod(
        "app-1",
        init,
        app,
        phase="Pending",
        conditions=(
            Condition(type="Initialized", status="False", reason="ContainersNotInitialized"),
        ),
    )
    result = diagnose(package(target), ["app"]).root_cause
    assert result.cause is RootCause.INIT_CONTAINER_FAILURE
    assert any("init container migrate" in e for e in result.evidence)


@pytest.mark.parametrize(
    "message",
    [
        'running PreBind plugin "VolumeBinding": binding volumes: '
        'provisioning failed for PVC "data"',
        "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind.",
    ],
)
def test_late_binding_volume_failures_are_pvc_pending(message: str) -> None:
    assert classify_scheduling_message(message) is RootCause.PVC_PENDING


def test_quota_refusals_followed_by_new_pods_are_over_even_without_controllers() -> None:
    refused = event(
        "FailedCreate",
        'Error creating: pods "app-7d9f8c6b5-zzzzz" is forbidden: exceeded quota: team',
        kind="ReplicaSet",
        about="app-7d9f8c6b5",
        minutes_ago=40,
    )
    created_later = pod("app-7d9f8c6b5-yyyyy", created_at=ago(20))
    assert (
        diagnose(package(created_later, events=(refused,)), []).root_cause.cause
        is RootCause.HEALTHY
    )
