"""The tool registry is the one list: ops, activities and undo all derive from it."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.config.settings import TOOLS, Settings
from orchestrator.qc.activity import QcActivities
from orchestrator.runtime.activities import StepActivities
from orchestrator.spec.ops import OPS, PURE_OPS
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import OpArgs
from orchestrator.tools.registry import ADAPTERS, TOOL_OPS, check_registry, tool_of


@pytest.fixture
async def step_activities() -> StepActivities:
    urls = dict.fromkeys(TOOLS, "http://127.0.0.1:9")  # never called: only names are read
    async with httpx.AsyncClient() as http:
        clients = ToolClients.from_settings(Settings().with_sandbox(urls), http)
        return StepActivities(clients)


def _activity_name(fn: object) -> str:
    definition = getattr(fn, "__temporal_activity_definition")
    return str(definition.name)


def test_every_op_has_exactly_one_activity(step_activities: StepActivities) -> None:
    names = [_activity_name(fn) for fn in step_activities.all()]
    names.append(_activity_name(QcActivities(None).review))
    assert sorted(names) == sorted(OPS)


def test_by_op_calls_the_same_activities(step_activities: StepActivities) -> None:
    by_op = step_activities.by_op()
    assert set(by_op) == set(OPS) - {"qc.review"}
    assert all(_activity_name(fn) == op for op, fn in by_op.items())


def test_every_tool_op_is_in_the_catalogue_with_its_tool() -> None:
    for name, op in TOOL_OPS.items():
        assert OPS[name].tool == tool_of(name)
        assert OPS[name].args is op.args and issubclass(op.args, OpArgs)
        assert OPS[name].writes is op.writes
    assert {op.name for op in PURE_OPS} == {n for n, spec in OPS.items() if spec.tool is None}


def test_every_tool_that_writes_can_undo() -> None:
    for adapter in ADAPTERS.values():
        if any(op.writes for op in adapter.ops):
            assert callable(adapter.undo), adapter.tool


def test_a_registry_without_a_configured_tool_fails_fast() -> None:
    partial = {tool: adapter for tool, adapter in ADAPTERS.items() if tool != "monday"}
    with pytest.raises(RuntimeError, match="disagree: add the adapter"):
        check_registry(partial, TOOLS)
    with pytest.raises(RuntimeError, match="disagree"):
        check_registry(ADAPTERS, (*TOOLS, "notion"))


def test_an_op_named_for_another_tool_fails_fast() -> None:
    linear = ADAPTERS["linear"]
    wrong = type(linear)(tool="linear", ops=ADAPTERS["slack"].ops, undo=linear.undo)
    with pytest.raises(RuntimeError, match="must be named linear"):
        check_registry({**ADAPTERS, "linear": wrong}, TOOLS)
