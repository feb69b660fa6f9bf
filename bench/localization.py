"""Benchmark: does steptrace name the right onset step, fault class and fix?

Every scenario in ``scenarios/`` is run (one Temporal dev server for all of them, a fresh
sandbox and store each) and every failed run that has an ``expect:`` entry is scored
against its ground truth, beside the two naive answers of DESIGN §5 computed on the same
runs: "the step that raised" (what Temporal's UI shows) and "the first step whose output
differs from the last good run".

Budgets (issue 11): onset accuracy ≥ 0.97, class accuracy ≥ 0.95; the proposed fix
*recovers* (applied, run against the faulted sandbox, it writes what a fault-free twin
run of the same trigger wrote, renamed fields matched by id) for ≥ 0.85 of the failures
whose true fix is a ``spec_patch``; and no *harmful verified* fix (reported verified,
yet it does not recover).

    python -m bench.localization [--json] [--write-docs]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.docs import DOCS, replace_section
from bench.machine import describe_line, load_line
from bench.scenario_main import scenario_bench_main
from orchestrator.scenarios import (
    FAILED,
    SCENARIOS_DIR,
    LoadedScenario,
    Progress,
    ScenarioResult,
    load_scenario,
    run_scenario,
)

__all__ = ["main", "run", "score_scenarios", "summary", "write_docs"]

SECTION = "## Failure localization"
BUDGET_ONSET = 0.97
BUDGET_CLASS = 0.95
BUDGET_VERIFIED = 0.80
BUDGET_RECOVERS = 0.85
PATCH_KINDS = ("spec_patch", "data_patch")


def load_all(folder: Path) -> list[LoadedScenario]:
    """Every ``*.yaml`` directly in ``folder``, by name; any bad file stops the run."""
    return [load_scenario(path) for path in sorted(folder.glob("*.yaml"))]


async def run(*, folder: Path | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Run every scenario on one dev server and score them."""
    from orchestrator.runtime.devserver import DevServer

    scenarios = load_all(folder or SCENARIOS_DIR)
    load_before = load_line()
    started = time.perf_counter()
    results: list[ScenarioResult] = []
    server = DevServer()
    await server.start()
    try:
        for scenario in scenarios:
            results.append(
                await run_scenario(
                    scenario,
                    temporal_address=server.address,
                    progress=progress,
                    check_recovery=True,
                )
            )
    finally:
        await server.stop()
    scored = score_scenarios(results, scenarios)
    scored["seconds"] = round(time.perf_counter() - started, 1)
    scored["load_average"] = load_before
    return scored


def score_scenarios(
    results: Sequence[ScenarioResult], scenarios: Sequence[LoadedScenario]
) -> dict[str, Any]:
    """The benchmark's figures from finished scenario results and their ground truth.

    Scored runs are those whose expected status is a failure (``failed`` or
    ``qc_failed``). A run the system did not see fail counts as wrong everywhere.
    """
    rows: list[dict[str, Any]] = []
    for result, scenario in zip(results, scenarios, strict=True):
        by_index = {run.index: run for run in result.runs}
        for expected in scenario.spec.expect:
            if expected.status not in FAILED or expected.run not in by_index:
                continue
            rows.append(_row(result.scenario, expected.model_dump(), by_index[expected.run]))
    return {
        "scenarios": [_scenario_row(result, rows) for result in results],
        "failures": rows,
        "onset_accuracy": _rate(rows, "onset_right"),
        "class_accuracy": _rate(rows, "class_right"),
        "fix_kind_accuracy": _rate(rows, "fix_kind_right"),
        "fix_verified_rate": _verified_rate(rows),
        "fix_recovers_rate": _recovers_rate(rows),
        "harmful_verified": [r["scenario"] for r in rows if _harmful(r)],
        "baseline_raised_step": _rate(rows, "raised_step_right"),
        "baseline_first_diff": _rate(rows, "first_diff_right"),
        "budgets": {
            "onset": BUDGET_ONSET,
            "class": BUDGET_CLASS,
            "verified": BUDGET_VERIFIED,
            "recovers": BUDGET_RECOVERS,
        },
    }


def _row(scenario: str, expected: dict[str, Any], run: Any) -> dict[str, Any]:
    found = run.diagnosis
    fix = found.proposed_fix if found else None
    onset = found.onset_step if found else None
    baselines = run.baselines
    raised = baselines.raised_step if baselines else run.failed_step
    first_diff = baselines.first_diff_step if baselines else None
    return {
        "scenario": scenario,
        "run": expected["run"],
        "run_id": run.run_id,
        "status": run.status,
        "expected": {k: expected[k] for k in ("status", "onset_step", "fault_class", "fix_kind")},
        "onset_step": onset,
        "fault_class": found.fault_class if found else None,
        "fix_kind": fix.kind if fix else None,
        "verified": fix.verified if fix else None,
        "raised_step": raised,
        "first_diff_step": first_diff,
        "onset_right": onset == expected["onset_step"],
        "class_right": found is not None and found.fault_class == expected["fault_class"],
        "fix_kind_right": fix is not None and fix.kind == expected["fix_kind"],
        "raised_step_right": raised == expected["onset_step"],
        "first_diff_right": first_diff == expected["onset_step"],
        "recovers": run.recovery.recovers if run.recovery else None,
        "recoverable": expected.get("recoverable") is not False
        and expected["fix_kind"] == "spec_patch",
        "recovery_detail": run.recovery.detail if run.recovery else "",
    }


def _scenario_row(result: ScenarioResult, rows: list[dict[str, Any]]) -> dict[str, Any]:
    mine = [row for row in rows if row["scenario"] == result.scenario]
    return {
        "scenario": result.scenario,
        "pipeline": result.pipeline,
        "runs": [{"index": r.index, "status": r.status} for r in result.runs],
        "scored": len(mine),
        "onset_right": all(row["onset_right"] for row in mine),
        "class_right": all(row["class_right"] for row in mine),
        "fix_kind_right": all(row["fix_kind_right"] for row in mine),
        "fix_verified": [row["verified"] for row in mine],
        "all_expectations_met": result.score.all_matched if result.score else None,
    }


def _rate(rows: list[dict[str, Any]], key: str) -> float | None:
    if not rows:
        return None
    return round(sum(1 for row in rows if row[key]) / len(rows), 3)


def _verified_rate(rows: list[dict[str, Any]]) -> float | None:
    """Verified share of the failed runs whose proposed fix is a patch."""
    patched = [row for row in rows if row["fix_kind"] in PATCH_KINDS and row["status"] in FAILED]
    if not patched:
        return None
    return round(sum(1 for row in patched if row["verified"] is True) / len(patched), 3)


def _recovers_rate(rows: list[dict[str, Any]]) -> float | None:
    """Of the failures whose true fix is a spec patch that can recover the data (not a
    value the destination no longer holds at all), the share the proposed fix recovers."""
    fixable = [row for row in rows if row["recoverable"]]
    if not fixable:
        return None
    return round(sum(1 for row in fixable if row["recovers"] is True) / len(fixable), 3)


def _harmful(row: dict[str, Any]) -> bool:
    """Reported verified, yet applying it does not write what the fault-free twin wrote."""
    return row["verified"] is True and row["recovers"] is False


def budgets_met(result: dict[str, Any]) -> dict[str, bool]:
    def at_least(value: Any, budget: float) -> bool:
        return value is not None and value >= budget

    return {
        "onset": at_least(result["onset_accuracy"], BUDGET_ONSET),
        "class": at_least(result["class_accuracy"], BUDGET_CLASS),
        "verified": at_least(result["fix_verified_rate"], BUDGET_VERIFIED),
        "recovers": at_least(result.get("fix_recovers_rate"), BUDGET_RECOVERS),
        "harmless": not result.get("harmful_verified"),
    }


def summary(result: dict[str, Any]) -> str:
    """One line per figure, with its budget."""
    met = budgets_met(result)
    lines = [
        f"scenarios {len(result['scenarios'])}, scored failed runs {len(result['failures'])}",
        _line("onset accuracy", result["onset_accuracy"], BUDGET_ONSET, met["onset"]),
        _line("class accuracy", result["class_accuracy"], BUDGET_CLASS, met["class"]),
        f"fix verified rate {result['fix_verified_rate']}",
        _line(
            "fix recovers rate", result.get("fix_recovers_rate"), BUDGET_RECOVERS, met["recovers"]
        ),
        f"harmful verified fixes {len(result.get('harmful_verified', []))} (budget 0: "
        f"{'met' if met['harmless'] else 'MISSED'})",
        f"fix kind accuracy {result['fix_kind_accuracy']}",
        f"baseline 'the step that raised' {result['baseline_raised_step']}",
        f"baseline 'first step that differs from the last good run' "
        f"{result['baseline_first_diff']}",
    ]
    return "\n".join(lines)


def _line(label: str, value: Any, budget: float, met: bool) -> str:
    return f"{label} {value} (budget >= {budget}: {'met' if met else 'MISSED'})"


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Failure localization" section of docs/benchmarks.md."""
    replace_section(SECTION, _section(result, command), docs)


def _section(result: dict[str, Any], command: str) -> str:
    met = budgets_met(result)
    table = "\n".join(_failure_line(row) for row in result["failures"])
    return f"""{SECTION}

Every scenario in `scenarios/` ({len(result["scenarios"])} files) run on one Temporal dev
server, each with a fresh sandbox and store; {len(result["failures"])} runs are expected
to fail (loudly or in QC) and are scored against the scenario's `expect:` ground truth.
The two baselines of DESIGN §5 are computed on the same runs. *Recovers*: the proposed
spec patch is applied and the same trigger runs again against the faulted sandbox; what
it writes is compared with a fault-free twin of the scenario (fields the destination
renamed matched by their id). The figure counts the failures whose true fix is a spec
patch that can recover the data (not those marked `recoverable: false`: a removed option,
a deleted column, a value over a size limit). A *harmful verified* fix is one reported
`verified: true` that does not recover.

{_figures_table(result, met)}

{_FAILURE_HEADER}
{table}

{_misses(result)}

- Command: `{command}` ({result.get("seconds", "?")} s)
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the run started: {result.get("load_average", "?")}
"""


_FAILURE_HEADER = (
    "| scenario | run | status | onset (truth) | class (truth) | fix (truth) | verified "
    "| recovers | raised | first diff |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def _figures_table(result: dict[str, Any], met: dict[str, bool]) -> str:
    rows = [
        ("onset step right", result["onset_accuracy"], BUDGET_ONSET, met["onset"]),
        ("fault class right", result["class_accuracy"], BUDGET_CLASS, met["class"]),
        ("fix kind right", result["fix_kind_accuracy"], None, None),
        (
            "patch fixes verified (a fix a person must confirm is not)",
            result["fix_verified_rate"],
            None,
            None,
        ),
        (
            "fix recovers (true fix a spec patch; vs a fault-free twin)",
            result.get("fix_recovers_rate"),
            BUDGET_RECOVERS,
            met["recovers"],
        ),
        ("harmful verified fixes", len(result.get("harmful_verified", [])), 0, met["harmless"]),
        ("baseline: the step that raised", result["baseline_raised_step"], None, None),
        (
            "baseline: first step whose output differs from the last good run",
            result["baseline_first_diff"],
            None,
            None,
        ),
    ]
    lines = ["| figure | value | budget |", "| --- | --- | --- |"]
    for label, value, budget, ok in rows:
        sign = "=" if budget == 0 else "≥"
        wanted = "" if budget is None else f"{sign} {budget} ({_verdict(bool(ok))})"
        lines.append(f"| {label} | {value} | {wanted} |")
    return "\n".join(lines)


def _misses(result: dict[str, Any]) -> str:
    """Why the figures miss, in the terms the table uses."""
    silent = [row["scenario"] for row in result["failures"] if row["status"] not in FAILED]
    wrong = [
        row["scenario"]
        for row in result["failures"]
        if row["status"] in FAILED and not (row["onset_right"] and row["class_right"])
    ]
    notes = []
    if silent:
        notes.append(
            f"{len(silent)} run(s) that should have failed QC ended without a failure, so "
            f"there was nothing to diagnose ({', '.join(silent)}): no QC rubric caught "
            "the silent defect."
        )
    if wrong:
        notes.append(f"{len(wrong)} failed run(s) got a wrong onset or class: {', '.join(wrong)}.")
    return " ".join(notes) or "Every scored run got the right onset and class."


def _recovered(row: dict[str, Any]) -> str:
    if row.get("recovers") is None:
        return "—"
    return "yes" if row["recovers"] else f"no ({row.get('recovery_detail', '')[:60]})"


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def _failure_line(row: dict[str, Any]) -> str:
    truth = row["expected"]

    def cell(found: Any, wanted: Any) -> str:
        mark = "✓" if found == wanted else "✗"
        return f"{found or '—'} {mark} ({wanted})"

    return (
        f"| {row['scenario']} | {row['run']} | {row['status']} "
        f"| {cell(row['onset_step'], truth['onset_step'])} "
        f"| {cell(row['fault_class'], truth['fault_class'])} "
        f"| {cell(row['fix_kind'], truth['fix_kind'])} "
        f"| {row['verified']} | {_recovered(row)} "
        f"| {row['raised_step'] or '—'} | {row['first_diff_step'] or '—'} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.localization [--json] [--write-docs] [--folder DIR]`."""
    scenario_bench_main("localization", __doc__, run, write_docs, summary, argv)


if __name__ == "__main__":
    main()
