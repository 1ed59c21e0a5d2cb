"""What to do about a root cause: now, how to check it worked, and how to avoid it next time.

Read-only by default: the commands here inspect; changes are described, to be
made through the workload's manifests (or by the DevOps agent after approval).
"""

from __future__ import annotations

from msgspec import Struct

from domain.incidents.findings import Finding
from domain.incidents.taxonomy import RootCause

__all__ = ["Remediation", "remediation_for"]


class Remediation(Struct, frozen=True, kw_only=True):
    immediate: str
    verification: str
    prevention: str


def remediation_for(finding: Finding, namespace: str, workload: str) -> Remediation:
    facts = finding.facts
    pod = finding.pods[0] if finding.pods else workload
    ns = f"-n {namespace}" if namespace else ""
    target = workload or pod
    container = facts.get("container", "")
    templates: dict[RootCause, tuple[str, str, str]] = {
        RootCause.OOM_KILLED: (
            f"Raise the memory limit of container {container} in {target} (now "
            f"{facts.get('limit') or 'unset'}) above its real peak, or cut its memory use "
            "(caches, heap: keep a JVM -Xmx well under the limit).",
            f"kubectl {ns} get pods -w; kubectl {ns} describe pod {pod} | grep -A4 'Last State'",
            "Size limits from observed peak usage (metrics, VPA recommendations); alert on "
            "container memory near its limit and on OOMKilled restarts.",
        ),
        RootCause.CRASH_LOOP: (
            f"Read why {container or 'the container'} exits (`kubectl {ns} logs {pod} "
            f"-c {container} --previous`), fix the error or the bad flag/config, then roll out.",
            f"kubectl {ns} get pod {pod} -w  # restartCount stops growing, Ready=True",
            "Validate configuration and flags in CI; keep a smoke test of the container start.",
        ),
        RootCause.IMAGE_PULL_ERROR: (
            f"Fix the image reference {facts.get('image', '')!r}: the tag or repository does "
            "not exist in that registry (typo, tag never pushed, wrong registry host).",
            f"kubectl {ns} describe pod {pod} | grep -A3 Events; check the tag in the registry",
            "Deploy only tags that CI has pushed (immutable tags or digests); gate rollouts on "
            "the image existing.",
        ),
        RootCause.IMAGE_PULL_AUTH: (
            f"Give the pod credentials for the registry of {facts.get('image', '')!r}: create "
            "or renew the docker-registry Secret and reference it in imagePullSecrets (now: "
            f"{facts.get('pull_secrets') or 'none'}) or on the ServiceAccount.",
            f"kubectl {ns} get secret <pull-secret>; kubectl {ns} describe pod {pod}",
            "Rotate registry tokens before they expire; use workload identity for the registry.",
        ),
        RootCause.LIVENESS_PROBE_FAILURE: (
            f"Fix the liveness/startup probe of {container}: path and port must be served, and "
            "timeoutSeconds/initialDelaySeconds (or a startupProbe) must fit the app's real "
            "start and response times.",
            f"kubectl {ns} get events --field-selector involvedObject.name={pod}",
            "Liveness probes check only the process itself (not dependencies) and use "
            "generous timeouts; use a startupProbe for slow starts.",
        ),
        RootCause.READINESS_PROBE_FAILURE: (
            f"Make the readiness probe ({facts.get('probe') or 'readinessProbe'}) match what "
            "the app serves (path, port, scheme), or fix the endpoint the probe calls.",
            f"kubectl {ns} get endpoints; kubectl {ns} get pods  # READY n/n",
            "Test probe paths with the image in CI; keep probe config next to the app's routes.",
        ),
        RootCause.DEPENDENCY_UNREACHABLE: (
            f"Restore the dependency {facts.get('service') or facts.get('host') or ''} "
            f"(port {facts.get('port') or '?'}): bring its pods back / scale it up, or fix the "
            "host name or address the app is configured with.",
            f"kubectl {ns} get endpoints {facts.get('service') or facts.get('host') or ''}; "
            f"kubectl {ns} logs {pod} --previous",
            "Retry with backoff instead of exiting; alert on Services without endpoints; "
            "protect critical stateful sets from accidental scale-down.",
        ),
        RootCause.CONFIG_MISSING: (
            f"Create the missing object ({facts.get('missing') or 'ConfigMap/Secret or key'}) "
            f"in namespace {namespace}, or fix the reference in the pod spec.",
            f"kubectl {ns} get secret,configmap; kubectl {ns} get pod {pod}",
            "Ship ConfigMaps/Secrets with the workload (same chart/kustomization, or an "
            "external-secrets sync) and check references before deploy.",
        ),
        RootCause.UNSCHEDULABLE_RESOURCES: (
            f"Lower the CPU/memory requests of {target} to what it uses, or add node capacity "
            "(scale the node group / let the cluster autoscaler add nodes).",
            f"kubectl {ns} get pod {pod} -o wide; kubectl describe nodes | grep -A6 Allocated",
            "Right-size requests from usage; keep headroom and autoscaler limits that fit the "
            "largest pod.",
        ),
        RootCause.UNSCHEDULABLE_AFFINITY_TAINT: (
            f"Make {target}'s placement satisfiable: fix nodeSelector/affinity labels, add a "
            "toleration for the node taint, or relax anti-affinity/topology spread.",
            f"kubectl get nodes --show-labels; kubectl describe pod {pod} {ns}",
            "Review placement constraints against node labels and taints in CI.",
        ),
        RootCause.PVC_PENDING: (
            f"Make the claim ({facts.get('claims', '')}) bindable: use an existing "
            "StorageClass, fix the provisioner, or create a matching PersistentVolume.",
            f"kubectl {ns} get pvc; kubectl {ns} describe pvc; kubectl get storageclass",
            "Reference only StorageClasses that exist in every target cluster; set a default "
            "StorageClass.",
        ),
        RootCause.VOLUME_MOUNT_FAILURE: (
            "Free or fix the volume: detach it from the node still holding it (Multi-Attach), "
            "fix the CSI/NFS backend, or create the Secret/ConfigMap the volume needs.",
            f"kubectl {ns} describe pod {pod}; kubectl get volumeattachment",
            "Use ReadWriteOnce volumes with one replica or a Recreate strategy; monitor the "
            "CSI driver.",
        ),
        RootCause.EVICTED_NODE_PRESSURE: (
            f"Relieve node {facts.get('node', '')}: free disk/ephemeral storage or memory, "
            "set requests/limits (ephemeral-storage too) for the evicted workload, and delete "
            "the Failed pod objects.",
            f"kubectl describe node {facts.get('node', '')} | grep -i pressure; "
            f"kubectl {ns} get pods --field-selector=status.phase=Failed",
            "Set ephemeral-storage and memory requests; rotate logs; alert on node pressure.",
        ),
        RootCause.INIT_CONTAINER_FAILURE: (
            f"Fix init container {container}: read `kubectl {ns} logs {pod} -c {container}` "
            "and repair what it waits for or runs (migration, bootstrap, dependency).",
            f"kubectl {ns} get pod {pod} -w  # Init:n/n then Running",
            "Make init steps idempotent with timeouts and clear errors.",
        ),
        RootCause.INVALID_COMMAND_OR_ENTRYPOINT: (
            f"Fix the command/entrypoint of {container}: the executable must exist in the "
            "image at that path and match the node's CPU architecture.",
            f"kubectl {ns} get pod {pod} -o jsonpath='{{.spec.containers[*].command}}'",
            "Build multi-arch images; test the container's start command in CI.",
        ),
        RootCause.PERMISSION_DENIED: (
            f"Align the securityContext of {container} with what the app needs: mount an "
            "emptyDir for paths it writes under readOnlyRootFilesystem, run as a user that owns "
            "its files (or set fsGroup), or use a non-root image/port above 1024.",
            f"kubectl {ns} get pod {pod} -o yaml | grep -A8 securityContext",
            "Build images that run as non-root and write only to declared volumes.",
        ),
        RootCause.NODE_NOT_READY: (
            f"Recover node {facts.get('node', '')} (kubelet, network, VM) or drain it so its "
            "pods are rescheduled elsewhere.",
            f"kubectl get node {facts.get('node', '')}; kubectl {ns} get pods -o wide",
            "Run replicas across nodes/zones with a PodDisruptionBudget; alert on NotReady nodes.",
        ),
        RootCause.RESOURCE_QUOTA_EXCEEDED: (
            f"Raise the ResourceQuota ({facts.get('quota') or 'namespace quota'}) or lower the "
            f"requests/limits of {target} (or free quota used by other workloads).",
            f"kubectl {ns} describe resourcequota; kubectl {ns} get rs,deploy",
            "Budget quotas per team with headroom for rolling updates (maxSurge).",
        ),
        RootCause.SERVICE_SELECTOR_MISMATCH: (
            f"Make Service {facts.get('service', '')} select the pods: fix spec.selector "
            f"({facts.get('selector', '')}) or the pod labels, and its targetPort.",
            f"kubectl {ns} get endpoints {facts.get('service', '')}",
            "Generate Service selectors from the same labels as the workload template.",
        ),
        RootCause.HEALTHY: (
            "No action needed in the cluster: nothing in this snapshot is failing.",
            f"kubectl {ns} get pods; kubectl {ns} get events --field-selector type=Warning",
            "If users still see a problem, look outside this namespace (ingress, DNS, upstream "
            "dependencies, application metrics).",
        ),
    }
    immediate, verification, prevention = templates.get(
        finding.cause, templates[RootCause.CRASH_LOOP]
    )
    return Remediation(
        immediate=immediate, verification=" ".join(verification.split()), prevention=prevention
    )
