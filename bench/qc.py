"""Benchmark: do the QC rubrics catch silent defects, stay quiet on clean runs, and does
the diagnosis pin what they catch to the right step?

Every scenario in ``scenarios/qc/`` is run (one Temporal dev server for all of them, a
fresh sandbox and store each). A run whose expectation names an ``onset_step`` carries a
silent defect: nothing raises, and only QC can see it. The rubric meant to catch it is
named by :data:`DEFECTS`, keyed by the scenario's file name (the scenario format has no
key for it). Every other run expected to succeed is a clean run.

- recall: defects whose intended rubric failed, or any blocker or major rubric failed;
- false alarm rate: deterministic rubric failures on clean runs / deterministic rubric
  verdicts (``pass`` or ``fail``) on clean runs; ``not_applicable`` is no verdict;
- attribution accuracy: defects whose diagnosis names the expected onset step. A
  ``qc_failed`` run has the diagnosis its workflow stored; a run that succeeded with a
  failed minor rubric is diagnosed from the store, as ``steptrace why`` does.

Budgets (issue 5): recall ≥ 0.95, false alarm rate ≤ 0.02, attribution ≥ 0.90.

    python -m bench.qc [--json] [--write-docs]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bench.docs import DOCS, replace_section
from bench.machine import describe_line, load_line
from bench.scenario_main import scenario_bench_main
from orchestrator.scenarios import (
    SCENARIOS_DIR,
    LoadedScenario,
    Progress,
    ScenarioError,
    load_scenario,
    run_scenario,
)
from rubrics.registry import RUBRICS

__all__ = [
    "DEFECTS",
    "ObservedRun",
    "RubricOutcome",
    "main",
    "observe_scenario",
    "run",
    "score",
    "summary",
    "write_docs",
]

SECTION = "## QC"
QC_DIR = SCENARIOS_DIR / "qc"
BUDGET_RECALL = 0.95
BUDGET_FALSE_ALARMS = 0.02
BUDGET_ATTRIBUTION = 0.90
SERIOUS = ("blocker", "major")
VERDICTS = ("pass", "fail")

DEFECTS: dict[str, str] = {
    "source-id-dropped": "integrity.source_id_recorded",
    "backlink-cut": "integrity.backlink_recorded",
    "title-changed-by-linear": "integrity.title_agrees",
    "urgent-to-low": "integrity.priority_agrees",
    "review-is-done": "integrity.status_agrees",
    "assignee-dropped": "integrity.assignee_agrees",
    "due-date-shown-wrong": "integrity.due_date_agrees",
    "labels-cut": "integrity.labels_agree",
    "duplicate-record": "integrity.one_record_per_source",
    "title-truncated": "integrity.no_truncation",
    "title-mojibake": "integrity.unicode_intact",
    "schema-option-created": "integrity.schema_conforms",
    "stale-overwrite": "integrity.no_stale_overwrite",
    "title-blank": "integrity.required_fields_present",
    "secret-in-description": "safety.no_secrets",
    "email-in-channel": "safety.no_personal_data_in_channels",
    "wrong-channel": "safety.right_channel",
    "mention-dropped": "safety.assignee_mentioned",
    "retries-over-budget": "process.retries_within_budget",
    "slow-read": "process.latency_within_budget",
    "empty-handoff": "process.no_empty_handoff",
    "status-column-renamed": "process.projections_resolve",
    "due-date-dropped": "process.reads_still_there",
}
"""Scenario file name -> the rubric its silent defect is meant to fail."""

CAUSES: dict[str, str] = {
    "schema-option-created": (
        "`orchestrator/qc/review.py` records no destination schema in the run's evidence "
        "(`RunEvidence.schemas` stays empty), so `integrity.schema_conforms` is "
        "`not_applicable` on every run and a value Airtable accepted through `typecast` "
        "goes unseen"
    ),
    "source-id-dropped": (
        "the rubric's failure (`upsert_airtable writes a record that carries no id`) has "
        "no evidence items, so the diagnosis has no value to walk back and names the QC "
        "step; evidence naming `upsert_airtable.$input.fields` would pin it"
    ),
    "due-date-shown-wrong": (
        "Monday answered the write with another date than the one sent; the diagnosis "
        "follows the evidence pair back through lineage to the transform instead of "
        "stopping at the write whose output differs from its own input"
    ),
    "title-changed-by-linear": (
        "Linear answered the issue creation with another title than the one sent; the "
        "diagnosis follows the pair back to the source read instead of stopping at the "
        "write whose output differs from its own input"
    ),
    "wrong-channel": (
        "the evidence is the planned `notify_slack.$input.channel` (a step not run yet) "
        "and the diagnosis stops there instead of following it to `normalize.channel`, "
        "where the routing rule is evaluated"
    ),
    "empty-handoff": (
        "the diagnosis raises (`TypeError` in `orchestrator/diagnosis/fix_replay.py` `_set`, a "
        "list indexed by a key while checking the proposed fix), in the workflow and "
        "offline alike, so no onset is named"
    ),
}
UNCOVERED: dict[str, str] = {
    "process.writes_recorded": (
        "every write op of `orchestrator/runtime/activities.py` returns its write, so no "
        "scenario can make a write step report none; the rubric guards other activities"
    ),
}

"""Why a defect was missed or pinned to the wrong step, as measured when these scenarios
were written; shown in docs/benchmarks.md only while the miss persists."""


class RubricOutcome(BaseModel):
    rubric: str
    outcome: str
    severity: str
    kind: str


class ObservedRun(BaseModel):
    """One expected run of a scenario: the truth, and what QC and the diagnosis said."""

    scenario: str
    run: int
    run_id: str | None
    status: str | None
    expected_status: str
    expected_onset: str | None
    rubric: str | None = None
    """The rubric meant to catch the defect; None for a clean run."""
    results: list[RubricOutcome] = []
    onset_step: str | None = None
    error: str | None = None

    @property
    def is_defect(self) -> bool:
        return self.expected_onset is not None

    def failed(self) -> list[RubricOutcome]:
        return [r for r in self.results if r.outcome == "fail"]


# ---------------------------------------------------------------------------- running


def load_all(folder: Path) -> list[LoadedScenario]:
    """Every ``*.yaml`` directly in ``folder``, by name; any bad file stops the run."""
    scenarios = [load_scenario(path) for path in sorted(folder.glob("*.yaml"))]
    for scenario in scenarios:
        _check_table(scenario)
    return scenarios


def _check_table(scenario: LoadedScenario) -> None:
    """A scenario with a defect must name its rubric in :data:`DEFECTS`, and back."""
    name = scenario.path.stem
    has_defect = any(e.onset_step for e in scenario.spec.expect)
    if has_defect and name not in DEFECTS:
        raise ScenarioError(
            f"{scenario.path}: expects a defect (onset_step) but bench/qc.py names no rubric "
            f"for {name!r} in DEFECTS"
        )
    if name in DEFECTS and not has_defect:
        raise ScenarioError(f"{scenario.path}: DEFECTS names it, but no expectation has an onset")


async def run(*, folder: Path | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Run every QC scenario on one dev server and score them."""
    from orchestrator.runtime.devserver import DevServer

    scenarios = load_all(folder or QC_DIR)
    load_before = load_line()
    started = time.perf_counter()
    observed: list[ObservedRun] = []
    server = DevServer()
    await server.start()
    try:
        for scenario in scenarios:
            observed += await observe_scenario(scenario, server.address, progress)
    finally:
        await server.stop()
    result = score(observed)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average"] = load_before
    return result


async def observe_scenario(
    scenario: LoadedScenario, address: str, progress: Progress | None
) -> list[ObservedRun]:
    """Run one scenario on a store of its own, and read back each expected run.

    A scenario that raises (say, a diagnosis that crashed) is still scored: its runs are
    read back from the store, and the error is kept with each of them.
    """
    with tempfile.TemporaryDirectory(prefix="steptrace-bench-qc-") as folder:
        url = f"sqlite:///{Path(folder) / 'trace.db'}"
        error = None
        runs: dict[int, tuple[str, str]] = {}
        try:
            result = await run_scenario(
                scenario, temporal_address=address, database_url=url, progress=progress
            )
            runs = {r.index: (r.run_id, r.status) for r in result.runs}
        except Exception as exc:  # the benchmark reports it and goes on
            error = f"{type(exc).__name__}: {exc}"
            if progress:
                progress(f"{scenario.spec.name}: raised {error}")
        return await observe(scenario, runs, url, error)


async def observe(
    scenario: LoadedScenario,
    runs: dict[int, tuple[str, str]],
    database_url: str,
    error: str | None = None,
) -> list[ObservedRun]:
    """Each expected run's rubric outcomes and the onset its diagnosis names. ``runs``
    maps a run's index to its id and status; when empty, they are read from the store
    in the order they started."""
    from tracer.store import TraceStore

    store = await asyncio.to_thread(TraceStore.open, database_url)
    try:
        if not runs:
            runs = await asyncio.to_thread(_stored_runs, store)
        observed = []
        for expected in scenario.spec.expect:
            run_id, status = runs.get(expected.run, (None, None))
            results = await asyncio.to_thread(_outcomes, store, run_id) if run_id else []
            onset, problem = None, error
            if run_id and expected.onset_step is not None:
                onset, raised = await _onset(store, run_id, results)
                problem = problem or raised
            observed.append(
                ObservedRun(
                    scenario=scenario.spec.name,
                    run=expected.run,
                    run_id=run_id,
                    status=status,
                    expected_status=expected.status,
                    expected_onset=expected.onset_step,
                    rubric=DEFECTS.get(scenario.path.stem) if expected.onset_step else None,
                    results=results,
                    onset_step=onset,
                    error=problem,
                )
            )
        return observed
    finally:
        await asyncio.to_thread(store.close)


def _stored_runs(store: Any) -> dict[int, tuple[str, str]]:
    records = sorted(store.list_runs(limit=1000), key=lambda r: r.started_at)
    return {i: (r.run_id, r.status.value) for i, r in enumerate(records, start=1)}


def _outcomes(store: Any, run_id: str) -> list[RubricOutcome]:
    kinds = {rubric.id: rubric.kind for rubric in RUBRICS}
    return [
        RubricOutcome(
            rubric=r.rubric_id,
            outcome=r.outcome,
            severity=r.severity,
            kind=kinds.get(r.rubric_id, "unknown"),
        )
        for r in store.rubric_results(run_id)
    ]


async def _onset(
    store: Any, run_id: str, results: list[RubricOutcome]
) -> tuple[str | None, str | None]:
    """The onset of the stored diagnosis, and the error if diagnosing raised. A run with
    a failed rubric but no stored diagnosis (one that succeeded with a minor failure) is
    diagnosed from the store, as ``steptrace why`` does."""
    from orchestrator.diagnosis.diagnoser import diagnose_run, stored_diagnosis

    found = await asyncio.to_thread(stored_diagnosis, store, run_id)
    if found is None and any(r.outcome == "fail" for r in results):
        try:
            found = await diagnose_run(store, run_id)
        except Exception as exc:  # a diagnosis that raises names no step
            return None, f"diagnosis raised {type(exc).__name__}: {exc}"
    return (found.onset_step if found else None), None


# ---------------------------------------------------------------------------- scoring


def caught(run: ObservedRun) -> bool:
    """The intended rubric failed, or any blocker or major rubric did."""
    return any(r.rubric == run.rubric or r.severity in SERIOUS for r in run.failed())


def is_clean(run: ObservedRun) -> bool:
    return not run.is_defect and run.expected_status == "succeeded"


def score(observed: Sequence[ObservedRun]) -> dict[str, Any]:
    """The benchmark's figures from the observed runs."""
    defects = [r for r in observed if r.is_defect]
    clean = [r for r in observed if is_clean(r)]
    verdicts = [v for r in clean for v in r.results if _deterministic_verdict(v)]
    alarms = [v for v in verdicts if v.outcome == "fail"]
    return {
        "rubrics": _rubric_rows(defects, clean),
        "defects": [_defect_row(r) for r in defects],
        "clean_runs": len(clean),
        "clean_scenarios": sorted({r.scenario for r in clean}),
        "clean_from_clean_scenarios": sum(r.scenario.startswith("clean-") for r in clean),
        "false_alarms": [_alarm_row(r) for r in clean if _alarms(r)],
        "recall": _rate(sum(caught(r) for r in defects), len(defects)),
        "false_alarm_rate": _rate(len(alarms), len(verdicts)),
        "attribution_accuracy": _rate(sum(_attributed(r) for r in defects), len(defects)),
        "budgets": {
            "recall": BUDGET_RECALL,
            "false_alarm_rate": BUDGET_FALSE_ALARMS,
            "attribution_accuracy": BUDGET_ATTRIBUTION,
        },
    }


def _deterministic_verdict(result: RubricOutcome) -> bool:
    return result.kind == "deterministic" and result.outcome in VERDICTS


def _alarms(run: ObservedRun) -> list[str]:
    return [v.rubric for v in run.results if _deterministic_verdict(v) and v.outcome == "fail"]


def _attributed(run: ObservedRun) -> bool:
    return run.onset_step is not None and run.onset_step == run.expected_onset


def _rate(right: int, total: int) -> float | None:
    return round(right / total, 3) if total else None


def _defect_row(run: ObservedRun) -> dict[str, Any]:
    failed = run.failed()
    return {
        "scenario": run.scenario,
        "run": run.run,
        "run_id": run.run_id,
        "rubric": run.rubric,
        "status": run.status,
        "expected_status": run.expected_status,
        "failed_rubrics": [r.rubric for r in failed],
        "intended_failed": any(r.rubric == run.rubric for r in failed),
        "caught": caught(run),
        "onset_step": run.onset_step,
        "expected_onset": run.expected_onset,
        "attributed": _attributed(run),
        "error": run.error,
    }


def _alarm_row(run: ObservedRun) -> dict[str, Any]:
    return {"scenario": run.scenario, "run": run.run, "rubrics": _alarms(run)}


def _rubric_rows(defects: list[ObservedRun], clean: list[ObservedRun]) -> list[dict[str, Any]]:
    """Per deterministic rubric: its defects, how many it failed, its clean verdicts."""
    rows = []
    for rubric in [r for r in RUBRICS if r.kind == "deterministic"]:
        mine = [d for d in defects if d.rubric == rubric.id]
        clean_verdicts = [
            v
            for run in clean
            for v in run.results
            if v.rubric == rubric.id and v.outcome in VERDICTS
        ]
        rows.append(
            {
                "id": rubric.id,
                "severity": rubric.severity,
                "defects": len(mine),
                "failed_on_its_defects": sum(
                    any(f.rubric == rubric.id for f in d.failed()) for d in mine
                ),
                "clean_verdicts": len(clean_verdicts),
                "false_alarms": sum(v.outcome == "fail" for v in clean_verdicts),
            }
        )
    return rows


# ---------------------------------------------------------------------------- reporting


def budgets_met(result: dict[str, Any]) -> dict[str, bool]:
    recall, alarms, attribution = (
        result["recall"],
        result["false_alarm_rate"],
        result["attribution_accuracy"],
    )
    return {
        "recall": recall is not None and recall >= BUDGET_RECALL,
        "false_alarm_rate": alarms is not None and alarms <= BUDGET_FALSE_ALARMS,
        "attribution_accuracy": attribution is not None and attribution >= BUDGET_ATTRIBUTION,
    }


def uncovered(result: dict[str, Any]) -> list[str]:
    """Deterministic rubrics no scenario makes fail."""
    return [row["id"] for row in result["rubrics"] if not row["defects"]]


def summary(result: dict[str, Any]) -> str:
    """One line per figure, with its budget."""
    met = budgets_met(result)
    lines = [
        f"defects {len(result['defects'])}, clean runs {result['clean_runs']}",
        _line("recall", result["recall"], f">= {BUDGET_RECALL}", met["recall"]),
        _line(
            "false alarm rate",
            result["false_alarm_rate"],
            f"<= {BUDGET_FALSE_ALARMS}",
            met["false_alarm_rate"],
        ),
        _line(
            "attribution accuracy",
            result["attribution_accuracy"],
            f">= {BUDGET_ATTRIBUTION}",
            met["attribution_accuracy"],
        ),
    ]
    lines += shortfalls(result)
    missing = uncovered(result)
    if missing:
        lines.append(f"deterministic rubrics with no defect scenario: {', '.join(missing)}")
    return "\n".join(lines)


def _line(label: str, value: Any, budget: str, met: bool) -> str:
    return f"{label} {value} (budget {budget}: {'met' if met else 'MISSED'})"


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## QC" section of docs/benchmarks.md."""
    replace_section(SECTION, _section(result, command), docs)


def _section(result: dict[str, Any], command: str) -> str:
    defects = "\n".join(_defect_line(row) for row in result["defects"])
    return f"""{SECTION}

Every scenario in `scenarios/qc/` run on one Temporal dev server, each with a fresh
sandbox and store. {len(result["defects"])} runs carry a silent defect: nothing raises,
and the rubric meant to catch each is named in `bench/qc.py`. {result["clean_runs"]} runs
are clean: {_clean_count(result)} runs of the `clean-*` scenarios (the three example
pipelines, no fault) and the good runs before a defect in the other files. Recall counts
a defect caught when its rubric, or any blocker or major rubric, failed; the false alarm
rate is deterministic rubric failures over deterministic verdicts (`pass` or `fail`) on
clean runs; attribution is the diagnosis's onset step against the scenario's truth.

{_figures_table(result)}

| scenario | run | rubric meant to fail | status | failed rubrics | onset (truth) |
| --- | --- | --- | --- | --- | --- |
{defects}

{_notes(result)}

- Command: `{command}` ({result.get("seconds", "?")} s)
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the run started: {result.get("load_average", "?")}
"""


def _clean_count(result: dict[str, Any]) -> int:
    return int(result.get("clean_from_clean_scenarios", 0))


def shortfalls(result: dict[str, Any]) -> list[str]:
    """Each missed budget and by how much."""
    met = budgets_met(result)
    out = []
    for key, label, budget, sign in (
        ("recall", "recall", BUDGET_RECALL, 1),
        ("false_alarm_rate", "false alarm rate", BUDGET_FALSE_ALARMS, -1),
        ("attribution_accuracy", "attribution accuracy", BUDGET_ATTRIBUTION, 1),
    ):
        value = result[key]
        if not met[key] and value is not None:
            out.append(f"{label} misses its budget by {round(sign * (budget - value), 3)}")
    return out


def _figures_table(result: dict[str, Any]) -> str:
    met = budgets_met(result)
    rows = [
        ("recall", result["recall"], f"≥ {BUDGET_RECALL}", met["recall"]),
        (
            "false alarm rate",
            result["false_alarm_rate"],
            f"≤ {BUDGET_FALSE_ALARMS}",
            met["false_alarm_rate"],
        ),
        (
            "attribution accuracy",
            result["attribution_accuracy"],
            f"≥ {BUDGET_ATTRIBUTION}",
            met["attribution_accuracy"],
        ),
    ]
    lines = ["| figure | value | budget |", "| --- | --- | --- |"]
    lines += [f"| {label} | {value} | {b} ({_verdict(ok)}) |" for label, value, b, ok in rows]
    return "\n".join(lines)


def _defect_line(row: dict[str, Any]) -> str:
    failed = ", ".join(f"`{r}`" for r in row["failed_rubrics"]) or "none"
    mark = "✓" if row["intended_failed"] else ("✓ (other)" if row["caught"] else "✗")
    onset = f"{row['onset_step'] or '—'} {'✓' if row['attributed'] else '✗'}"
    return (
        f"| {row['scenario']} | {row['run']} | `{row['rubric']}` {mark} | {row['status']} "
        f"| {failed} | {onset} ({row['expected_onset']}) |"
    )


def _notes(result: dict[str, Any]) -> str:
    notes = [f"Budget missed: {s}." for s in shortfalls(result)]
    missed = [row["scenario"] for row in result["defects"] if not row["caught"]]
    if missed:
        notes.append(f"Defects no rubric caught: {', '.join(missed)}.")
    wrong = [
        f"{row['scenario']} ({row['onset_step'] or 'no onset'}, truth {row['expected_onset']})"
        for row in result["defects"]
        if not row["attributed"]
    ]
    if wrong:
        notes.append(f"Defects pinned to the wrong step: {', '.join(wrong)}.")
    alarms = [
        f"{a['scenario']} run {a['run']}: {', '.join(a['rubrics'])}" for a in result["false_alarms"]
    ]
    if alarms:
        notes.append(f"False alarms on clean runs: {'; '.join(alarms)}.")
    missing = uncovered(result)
    if missing:
        why = [f"{m} ({UNCOVERED[m]})" if m in UNCOVERED else m for m in missing]
        notes.append(f"Deterministic rubrics with no defect scenario: {'; '.join(why)}.")
    causes = _causes(result)
    if causes:
        notes.append("Why:\n\n" + "\n".join(causes))
    return "\n\n".join(notes) or "Every defect caught and pinned; no false alarm."


def _causes(result: dict[str, Any]) -> list[str]:
    wrong = [r["scenario"] for r in result["defects"] if not (r["caught"] and r["attributed"])]
    return [f"- {name}: {CAUSES[name]}." for name in dict.fromkeys(wrong) if name in CAUSES]


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.qc [--json] [--write-docs] [--folder DIR]`."""
    scenario_bench_main("qc", __doc__, run, write_docs, summary, argv)


if __name__ == "__main__":
    main()
