"""The ``steptrace qc`` table: one row per rubric, failures first, with their evidence."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

STYLES = {
    "fail": "bold red",
    "error": "red",
    "not_judged": "yellow",
    "pass": "green",
    "not_applicable": "dim",
}
MAX_VALUE = 60


def print_qc(console: Console, report: dict[str, Any]) -> None:
    coverage = report["coverage"]
    console.print(
        f"[bold]QC of {report['run_id']}[/]: {coverage['pass']} passed, {coverage['fail']} "
        f"failed, {coverage['error']} errors, {coverage['not_judged']} not judged, "
        f"{coverage['not_applicable']} not applicable"
    )
    table = Table(show_lines=False)
    for column in ("outcome", "severity", "rubric", "step", "evidence"):
        table.add_column(column, overflow="fold")
    for result in report["results"]:
        outcome = result["outcome"]
        table.add_row(
            f"[{STYLES.get(outcome, '')}]{outcome}[/]",
            result["severity"],
            result["rubric_id"],
            result.get("step_id") or "",
            _evidence(result) if outcome in ("fail", "error") else result["message"],
        )
    console.print(table)
    if coverage["not_judged"]:
        console.print(
            "LLM rubrics are not judged: set STEPTRACE_JUDGE=provider:model to judge them."
        )


def _evidence(result: dict[str, Any]) -> str:
    lines = [result["message"]]
    for item in result["evidence"][:6]:
        lines.append(f"  {item['path']} = {_short(item['value'])}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
