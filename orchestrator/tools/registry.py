"""The registry: every tool steptrace talks to, by name, and every op they offer.

Adding a tool is one adapter module (``orchestrator/tools/<tool>.py`` exporting
``ADAPTER``) plus its entry below and its name in :data:`orchestrator.config.settings.Tool`;
adding an op is one :class:`~orchestrator.tools.op.ToolOp` in its tool's adapter. The
spec's op catalogue, the step activities and rollback's undo are derived from here, and
this module refuses to load when the registry and the list of tool names disagree.
"""

from __future__ import annotations

from orchestrator.config.settings import TOOLS, Tool
from orchestrator.tools import airtable, linear, monday, slack
from orchestrator.tools.op import ToolAdapter, ToolOp

ADAPTERS: dict[Tool, ToolAdapter] = {
    adapter.tool: adapter
    for adapter in (linear.ADAPTER, airtable.ADAPTER, monday.ADAPTER, slack.ADAPTER)
}

TOOL_OPS: dict[str, ToolOp] = {op.name: op for adapter in ADAPTERS.values() for op in adapter.ops}
"""Every tool op by name (``linear.get_issue``, ...)."""


def tool_of(op_name: str) -> Tool | None:
    """The tool an op talks to, or ``None`` for a pure op."""
    for tool, adapter in ADAPTERS.items():
        if any(op.name == op_name for op in adapter.ops):
            return tool
    return None


def check_registry(adapters: dict[Tool, ToolAdapter], tools: tuple[str, ...]) -> None:
    """Fail fast when the registry and the tool names disagree, or an op is misnamed."""
    if set(adapters) != set(tools):
        raise RuntimeError(
            f"the tool registry ({', '.join(sorted(adapters))}) and the configured tool names "
            f"({', '.join(tools)}) disagree: add the adapter to orchestrator/tools/registry.py "
            "and its name to orchestrator.config.settings.Tool"
        )
    for adapter in adapters.values():
        wrong = [op.name for op in adapter.ops if not op.name.startswith(f"{adapter.tool}.")]
        if wrong:
            raise RuntimeError(f"ops of {adapter.tool} must be named {adapter.tool}.*: {wrong}")


check_registry(ADAPTERS, TOOLS)
