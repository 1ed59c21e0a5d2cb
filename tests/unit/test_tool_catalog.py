"""The built-in cluster tools and the checks every call passes: its arguments against
the tool's schema, approval for every write, refusal of destructive calls unless the
arbiter policy allows them, and a registry that can make a tool stricter, never laxer."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec
import pytest

from domain.control import ArbiterPolicySpec, ToolSpec
from domain.tool_calls import WRITES, ClusterTool, ToolCall
from services.agents.ports import ToolOutcome
from services.agents.tool_catalog import (
    BUILTIN_TOOLS,
    WRITE_TOOLS,
    is_destructive,
    needs_approval,
    refusal,
    validate_call,
    writer_refusal,
)

NS = {"namespace": "shop"}
READS = sorted(set(BUILTIN_TOOLS) - WRITE_TOOLS)
ALLOW_DESTRUCTIVE = {"allow_destructive": True}


def call(tool: str, **args: Any) -> ToolCall:
    return ToolCall(tool=tool, args={**NS, **args})


def invalid(tool_call: ToolCall) -> str:
    found = validate_call(tool_call, BUILTIN_TOOLS[tool_call.tool])
    assert found is not None, f"{tool_call} should be invalid"
    return found


def problem(tool: str, **args: Any) -> str:
    return invalid(call(tool, **args))


def test_the_builtin_tools_are_the_cluster_tools_with_valid_registry_specs() -> None:
    assert set(BUILTIN_TOOLS) == {t.value for t in ClusterTool}
    assert {t.value for t in ClusterTool} - WRITE_TOOLS == {
        "get_pod",
        "get_pod_logs",
        "get_events",
        "rollout_status",
        "get_endpoints",
        "list_pods",
    }
    writes = {"rollout_restart", "scale_deployment", "patch_resources", "delete_pod"}
    assert writes == WRITE_TOOLS == WRITES  # the specs and the domain's proposer agree
    for name, spec in BUILTIN_TOOLS.items():
        # what an operator adds a version of must decode as a control-registry tool spec
        assert msgspec.convert(spec, ToolSpec).requires_approval == (name in WRITE_TOOLS)
        jsonschema.Draft202012Validator.check_schema(spec["json_schema"])


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("get_pod", {"pod": "web-7d9f8c6b5-x2x4z"}),
        ("get_pod_logs", {"pod": "web-1", "container": "web", "previous": True, "tail_lines": 50}),
        ("get_events", {"name": "data-db-0", "kind": "PersistentVolumeClaim"}),
        ("rollout_status", {"deployment": "web"}),
        ("get_endpoints", {"service": "db"}),
        ("list_pods", {"label_selector": "app.kubernetes.io/name=web,tier!=db", "limit": 20}),
        ("list_pods", {}),
        ("rollout_restart", {"deployment": "web"}),
        ("scale_deployment", {"deployment": "web", "replicas": 3}),
        ("patch_resources", {"deployment": "web", "container": "web", "limits": {"memory": "1Gi"}}),
        ("patch_resources", {"deployment": "web", "container": "web", "requests": {"cpu": "250m"}}),
        ("delete_pod", {"pod": "web-1"}),
    ],
)
def test_well_formed_calls_are_valid(tool: str, args: dict[str, Any]) -> None:
    assert validate_call(call(tool, **args), BUILTIN_TOOLS[tool]) is None


def test_a_missing_argument_is_named() -> None:
    message = problem("rollout_restart")
    assert message.startswith("invalid arguments for rollout_restart")
    assert "'deployment' is a required property" in message
    assert "'namespace' is a required property" in invalid(
        ToolCall(tool="get_pod", args={"pod": "web-1"})
    )


def test_a_wrong_value_names_its_argument() -> None:
    assert problem("scale_deployment", deployment="web", replicas="two").startswith(
        "invalid arguments for scale_deployment: replicas: 'two' is not of type 'integer'"
    )
    assert "replicas: -1 is less than the minimum of 0" in problem(
        "scale_deployment", deployment="web", replicas=-1
    )
    assert problem("get_pod", pod="Web_1").startswith("invalid arguments for get_pod: pod: 'Web_1'")
    assert "tail_lines: 100000 is greater than the maximum" in problem(
        "get_pod_logs", pod="web-1", tail_lines=100_000
    )
    memory = problem(
        "patch_resources", deployment="web", container="web", limits={"memory": "lots"}
    )
    assert "limits.memory: 'lots' does not match" in memory
    assert "namespace: '../etc' does not match" in invalid(
        ToolCall(tool="get_pod", args={"namespace": "../etc", "pod": "web-1"})
    )


def test_an_unexpected_argument_is_named() -> None:
    assert "('force' was unexpected)" in problem("delete_pod", pod="web-1", force=True)


def test_a_resource_patch_needs_limits_or_requests() -> None:
    assert problem("patch_resources", deployment="web", container="web") == (
        "invalid arguments for patch_resources: needs one of: "
        "'limits' is a required property | 'requests' is a required property"
    )


def test_a_spec_without_a_usable_schema_is_a_problem_not_a_crash() -> None:
    tool = ToolCall(tool="custom", args={})
    assert validate_call(tool, {"description": "x"}) == "custom: the tool spec has no json_schema"
    broken = validate_call(tool, {"json_schema": {"type": "nonsense"}})
    assert broken is not None and broken.startswith(
        "custom: the tool spec's json_schema is invalid"
    )


@pytest.mark.parametrize("tool", sorted(WRITE_TOOLS))
def test_a_write_needs_approval_even_where_a_registry_spec_says_it_does_not(tool: str) -> None:
    lax = dict(BUILTIN_TOOLS[tool], requires_approval=False)
    assert needs_approval(call(tool), lax, None, frozenset())
    assert needs_approval(call(tool), lax, ArbiterPolicySpec(), WRITE_TOOLS)


def test_reads_need_approval_only_where_the_registry_or_the_policy_asks() -> None:
    for tool in READS:
        assert not needs_approval(call(tool), BUILTIN_TOOLS[tool], None, WRITE_TOOLS)
    strict = dict(BUILTIN_TOOLS["get_pod_logs"], requires_approval=True)
    assert needs_approval(call("get_pod_logs"), strict, None, WRITE_TOOLS)
    policy = {"tools_requiring_approval": ["get_pod_logs"]}
    assert needs_approval(call("get_pod_logs"), BUILTIN_TOOLS["get_pod_logs"], policy, WRITE_TOOLS)
    assert not needs_approval(call("get_pod"), BUILTIN_TOOLS["get_pod"], policy, WRITE_TOOLS)


def test_a_write_the_write_client_implements_needs_approval_whatever_its_spec() -> None:
    custom = ToolCall(tool="cordon_node", args={"node": "n1"})
    spec = {"description": "cordon", "json_schema": {"type": "object"}}
    assert needs_approval(custom, spec, None, frozenset({"cordon_node"}))
    assert not needs_approval(custom, spec, None, frozenset())


DESTRUCTIVE = [
    call("delete_pod", pod="web-1"),
    call("scale_deployment", deployment="web", replicas=0),
    call("scale_deployment", deployment="web"),  # no count is never read as "more"
    call("scale_deployment", deployment="web", replicas=True),
]


@pytest.mark.parametrize("destructive", DESTRUCTIVE, ids=lambda c: f"{c.tool}:{c.args}")
def test_destructive_calls_are_refused_unless_the_policy_allows_them(
    destructive: ToolCall,
) -> None:
    spec = BUILTIN_TOOLS[destructive.tool]
    assert is_destructive(destructive, spec)
    for policy in (None, {}, {"allow_destructive": False}, ArbiterPolicySpec()):
        refused = refusal(destructive, spec, policy)
        assert refused is not None
        assert "destructive" in refused and "allow_destructive: false" in refused
    assert refusal(destructive, spec, ALLOW_DESTRUCTIVE) is None
    assert refusal(destructive, spec, ArbiterPolicySpec(allow_destructive=True)) is None
    # allowed is not the same as approved: it still waits for a person
    assert needs_approval(destructive, spec, ALLOW_DESTRUCTIVE, WRITE_TOOLS)


def test_the_refusal_names_what_would_be_destroyed() -> None:
    refused = refusal(call("scale_deployment", deployment="web", replicas=0), None, None)
    assert refused is not None and "shop/web (replicas=0)" in refused


def test_a_policy_that_does_not_decode_allows_nothing_destructive() -> None:
    broken = {"allow_destructive": "yes please", "unknown": 1}
    assert refusal(call("delete_pod", pod="web-1"), None, broken) is not None


@pytest.mark.parametrize("tool", [*READS, "rollout_restart", "patch_resources"])
def test_calls_that_destroy_nothing_are_never_refused(tool: str) -> None:
    plain = call(tool, deployment="web", replicas=2)
    assert not is_destructive(plain, BUILTIN_TOOLS[tool])
    assert refusal(plain, BUILTIN_TOOLS[tool], None) is None
    assert refusal(call("scale_deployment", deployment="web", replicas=2), None, None) is None


def test_the_registry_can_mark_a_tool_destructive() -> None:
    for tool in ("rollout_restart", "patch_resources", "get_pod_logs"):
        risky = dict(BUILTIN_TOOLS[tool], destructive=True)
        assert is_destructive(call(tool), risky)
        assert refusal(call(tool), risky, None) is not None
        assert refusal(call(tool), risky, ALLOW_DESTRUCTIVE) is None


def test_the_registry_cannot_unmark_a_destructive_tool() -> None:
    for destructive in DESTRUCTIVE:
        lax = dict(BUILTIN_TOOLS[destructive.tool], destructive=False, requires_approval=False)
        assert is_destructive(destructive, lax)
        assert refusal(destructive, lax, None) is not None
        assert needs_approval(destructive, lax, None, frozenset())


class Writer:
    """A write client that implements only a rollout restart."""

    def write_tools(self) -> frozenset[str]:
        return frozenset({"rollout_restart"})

    def destructive(self, call: ToolCall) -> bool:
        return False

    async def run(self, call: ToolCall) -> ToolOutcome:
        raise AssertionError("never run here")


def test_the_write_client_refuses_a_tool_it_does_not_implement() -> None:
    writer = Writer()
    assert writer_refusal(call("rollout_restart", deployment="web"), writer) is None
    refused = writer_refusal(call("patch_resources", deployment="web"), writer)
    assert refused == "refused: the write client does not implement patch_resources"


def test_whether_writes_are_enabled_is_not_decided_when_a_call_is_proposed() -> None:
    # no write client is passed or needed: a write is proposed and approved, and only
    # its execution finds out whether writing is enabled
    for tool in sorted(WRITE_TOOLS - {"delete_pod"}):
        write = call(tool, deployment="web", replicas=2)
        assert refusal(write, BUILTIN_TOOLS[tool], None) is None
