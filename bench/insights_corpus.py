"""The corpus of ``steptrace bench insights``: real recorded runs, cloned with planted
patterns and chance decoys, and the ground truth of what was planted.

The template runs are the five scenarios every large-store benchmark records (good and
failed runs of five pipelines, :mod:`bench.large_store`). Each clone copies one
template's run, attempts, payload references and diagnosis with bare SQL; what varies
is chosen by a seeded generator:

- trigger fields (``team``, ``priority``, ``source``, and ``region``, a pure-chance decoy)
  added to the template's trigger, one stored payload per combination;
- which runs fail, and how: planted condition-specific failures, a version regression
  (a second spec version that fails QC), base failures at random (decoys for the
  explanations: same size, no condition);
- planted silent patterns: a value-map default taken since a day, a field emptied since a
  day, a retry that absorbs a 429, a latency shift; and a decoy value at a constant rate.

:class:`Truth` lists each pattern with the run ids that exhibit it, so every finding and
every cited run can be checked against what was planted.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.large_store import SQLITE_TIME, RowWriter, Template, clone, load_templates, writing
from tracer.payloads import decode, encode

__all__ = ["DAYS", "FIRST_DAY", "Pattern", "Truth", "build"]

FIRST_DAY = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 28
PIPELINES = {  # share of runs
    "linear-triage-sync": 0.30,
    "linear-triage-sync-due-default": 0.20,
    "linear-triage-sync-wrong-priority-map": 0.15,
    "airtable-intake-to-linear": 0.20,
    "monday-digest": 0.15,
}
TEAMS = {"ENG": 0.40, "OPS": 0.25, "DATA": 0.20, "WEB": 0.15}
PRIORITIES = {"urgent": 0.10, "high": 0.25, "medium": 0.40, "low": 0.25}
SOURCES = {"webhook": 0.8, "schedule": 0.2}
REGIONS = {"eu": 0.4, "us": 0.4, "apac": 0.2}


@dataclass
class Pattern:
    """One planted (or base) pattern and the runs that exhibit it."""

    id: str
    kind: str  # a FindingKind: failure_group, explanation, default_taken, …
    pipeline: str
    planted: bool
    step: str | None = None
    conditions: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    value: str | None = None
    since_day: int | None = None
    runs: set[str] = field(default_factory=set)
    denominator: int = 0  # runs the prevalence is counted over
    group_of: str | None = None  # explanation -> its failure-group pattern id


@dataclass
class Truth:
    patterns: dict[str, Pattern]
    pipeline_runs: dict[str, int]
    version_v2: str
    runs: int


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _load(db: sqlite3.Connection) -> dict[tuple[str, str], list[Template]]:
    out: dict[tuple[str, str], list[Template]] = {}
    for template in load_templates(db):
        status = "good" if template.good else "failed"
        out.setdefault((template.run["pipeline"], status), []).append(template)
    return out


class _Writer:
    """Inserts clones and the new payloads they need, in one transaction."""

    def __init__(self, db: sqlite3.Connection, rows: RowWriter) -> None:
        self.db = db
        self.rows = rows
        self.payloads: dict[str, str] = {}  # canonical json -> hash
        self.known: set[str] = {r[0] for r in db.execute("SELECT hash FROM payload")}
        # derived payloads of this store: (base hash, change) -> hash
        self.derived: dict[tuple[str, str], str] = {}

    def payload(self, value: Any) -> str:
        encoded = encode(value)
        if encoded.hash not in self.known:
            self.db.execute(
                "INSERT INTO payload (hash, raw_size, stored_size, data, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    encoded.hash,
                    encoded.raw_size,
                    encoded.stored_size,
                    encoded.data,
                    FIRST_DAY.strftime(SQLITE_TIME),
                ),
            )
            self.known.add(encoded.hash)
        return encoded.hash

    def decoded(self, hash_: str) -> Any:
        return decode(
            self.db.execute("SELECT data FROM payload WHERE hash = ?", (hash_,)).fetchone()[0]
        )


def build(path: Path, runs: int, *, seed: int = 11) -> Truth:
    """Replace the recorded runs in the store at ``path`` by ``runs`` clones; return
    what was planted. The template payloads stay (clones refer to them)."""
    with writing(path) as (db, rows):
        return _build(db, rows, runs, seed)


def _build(db: sqlite3.Connection, rows: RowWriter, runs: int, seed: int) -> Truth:
    templates = _load(db)
    for table in ("rubric_result", "diagnosis", "human_action", "step_attempt"):
        db.execute(f"DELETE FROM {table}")
    db.execute("DELETE FROM run")
    writer = _Writer(db, rows)
    v2 = _second_version(db, templates)
    truth = Truth(_patterns(), {}, v2, runs)
    rng = random.Random(seed)
    every = timedelta(days=DAYS) / runs
    for number in range(runs):
        started = FIRST_DAY + number * every
        _one_clone(writer, templates, truth, rng, number, started)
    # not planted but real: the recorded failed run of this pipeline took the spec's
    # default for the due date, so every clone of it does too
    base = truth.patterns["B-tbd"]
    base.runs = set(truth.patterns["G-due"].runs)
    for pattern in truth.patterns.values():
        if pattern.kind in ("failure_group", "explanation") or pattern is base:
            pattern.denominator = truth.pipeline_runs[pattern.pipeline]
    return truth


def _second_version(
    db: sqlite3.Connection, templates: dict[tuple[str, str], list[Template]]
) -> str:
    base = templates[("linear-triage-sync-due-default", "good")][0].run["version_hash"]
    spec = db.execute("SELECT spec FROM pipeline_version WHERE hash = ?", (base,)).fetchone()[0]
    v2 = "b2" + base[2:]
    db.execute(
        "INSERT OR IGNORE INTO pipeline_version (hash, pipeline, spec, created_at) "
        "VALUES (?, ?, ?, ?)",
        (v2, "linear-triage-sync-due-default", spec + "\n# v2\n", FIRST_DAY.strftime(SQLITE_TIME)),
    )
    return str(v2)


def _patterns() -> dict[str, Pattern]:
    plist = [
        Pattern("G-team", "failure_group", "linear-triage-sync", True, "upsert_airtable"),
        Pattern(
            "E-team",
            "explanation",
            "linear-triage-sync",
            True,
            "upsert_airtable",
            {"trigger.team": "OPS"},
            group_of="G-team",
        ),
        Pattern("G-urgent", "failure_group", "airtable-intake-to-linear", True, "mark_filed"),
        Pattern(
            "E-urgent",
            "explanation",
            "airtable-intake-to-linear",
            True,
            "mark_filed",
            {"trigger.priority": "urgent", "trigger.source": "schedule"},
            group_of="G-urgent",
        ),
        Pattern("G-v2", "failure_group", "linear-triage-sync-due-default", True, "qc"),
        Pattern(
            "E-v2",
            "explanation",
            "linear-triage-sync-due-default",
            True,
            "qc",
            {"version": "b2"},
            group_of="G-v2",
        ),
        Pattern(
            "S-default",
            "default_taken",
            "airtable-intake-to-linear",
            True,
            "normalize",
            path="priority",
            value="0",
            since_day=10,
        ),
        Pattern(
            "S-empty",
            "value_shift",
            "monday-digest",
            True,
            "aggregate",
            path="board",
            value="∅",
            since_day=18,
        ),
        Pattern("S-retry", "retry_absorbed", "monday-digest", True, "read_board"),
        Pattern(
            "S-latency", "latency_shift", "linear-triage-sync", True, "fetch_issue", since_day=20
        ),
        Pattern(
            "G-decoy", "failure_group", "linear-triage-sync-wrong-priority-map", False, "normalize"
        ),
        Pattern("G-digest", "failure_group", "monday-digest", False, "save_summary"),
        Pattern("G-due", "failure_group", "linear-triage-sync-due-default", False, "fetch_issue"),
        Pattern(
            "B-tbd",
            "default_taken",
            "linear-triage-sync-due-default",
            False,
            "normalize",
            path="board_due",
            value="TBD",
        ),
    ]
    return {p.id: p for p in plist}


_FAILURES: tuple[tuple[str, str, float, dict[str, str]], ...] = (
    # (pattern, pipeline, rate, condition on the trigger fields)
    ("G-team", "linear-triage-sync", 0.16, {"team": "OPS"}),
    ("G-urgent", "airtable-intake-to-linear", 0.5, {"priority": "urgent", "source": "schedule"}),
    ("G-decoy", "linear-triage-sync-wrong-priority-map", 0.04, {}),
    ("G-digest", "monday-digest", 0.02, {}),
    ("G-due", "linear-triage-sync-due-default", 0.01, {}),
)
RETRY_ERROR = {
    "error_class": "RateLimitedError",
    "message": "rate limited (429): retry after 1 s",
    "retryable": True,
    "status": 429,
    "code": "RATE_LIMITED",
    "retry_after": 1.0,
}


def _one_clone(
    writer: _Writer,
    templates: dict[tuple[str, str], list[Template]],
    truth: Truth,
    rng: random.Random,
    number: int,
    started: datetime,
) -> None:
    pipeline = _pick(rng, PIPELINES)
    day = (started - FIRST_DAY).days
    fields = {
        "team": _pick(rng, TEAMS),
        "priority": _pick(rng, PRIORITIES),
        "source": _pick(rng, SOURCES),
        "region": _pick(rng, REGIONS),
    }
    failing = None
    for pattern_id, where, rate, condition in _FAILURES:
        hit = rng.random() < rate
        if where == pipeline and hit and all(fields[k] == v for k, v in condition.items()):
            failing = pattern_id
    v2 = pipeline == "linear-triage-sync-due-default" and day >= 14 and rng.random() < 0.6
    qc_fail = v2 and failing is None and rng.random() < 0.25
    template = rng.choice(templates[(pipeline, "failed" if failing else "good")])
    workflow_id = f"{pipeline}-i{number:07d}"
    truth.pipeline_runs[pipeline] = truth.pipeline_runs.get(pipeline, 0) + 1
    run, attempts = clone(template, workflow_id, number, started)
    run_id = run["run_id"]
    # the trigger of any recorded run of the pipeline: which issue a run is about must
    # not give away whether it fails
    run["trigger_hash"] = _trigger(writer, rng.choice(_all(templates, pipeline)), fields)
    if v2:
        run["version_hash"] = truth.version_v2
    if failing:
        _mark(truth, failing, run_id)
        if failing in ("G-team", "G-urgent"):
            _mark(truth, failing.replace("G-", "E-"), run_id)
    if qc_fail:
        run.update(status="qc_failed", failed_step="qc")
        qc_index = next(a["step_index"] for a in attempts if a["step_id"] == "qc")
        attempts = [a for a in attempts if a["step_index"] <= qc_index]
        _mark(truth, "G-v2", run_id)
        _mark(truth, "E-v2", run_id)
    _silent(writer, truth, rng, pipeline, day, run_id, attempts)
    writer.rows.add("run", [run])
    writer.rows.add("step_attempt", attempts)
    if qc_fail:
        writer.rows.add("rubric_result", [{
            "run_id": run_id, "rubric_id": "integrity.due_date_agrees", "rubric_version": "1",
            "outcome": "fail", "severity": "blocker", "evidence": "{}", "step_id": "qc",
            "created_at": run["ended_at"],
        }])  # fmt: skip
    if failing and template.diagnosis:
        body = json.loads(template.diagnosis)
        body["run_id"] = run_id
        writer.rows.add("diagnosis", [
            {"run_id": run_id, "body": json.dumps(body), "created_at": run["ended_at"]}
        ])  # fmt: skip


def _all(templates: dict[tuple[str, str], list[Template]], pipeline: str) -> list[str]:
    return [
        t.run["trigger_hash"]
        for status in ("good", "failed")
        for t in templates.get((pipeline, status), [])
    ]


def _mark(truth: Truth, pattern_id: str, run_id: str) -> None:
    truth.patterns[pattern_id].runs.add(run_id)


def _trigger(writer: _Writer, base_hash: str, fields: dict[str, str]) -> str:
    key = (base_hash, json.dumps(fields, sort_keys=True))
    if key not in writer.derived:
        writer.derived[key] = writer.payload({**writer.decoded(base_hash), **fields})
    return writer.derived[key]


def _variant(writer: _Writer, row: dict[str, Any], key: str, value: Any) -> None:
    """Point the attempt's output at a copy of its payload with ``key`` set to ``value``."""
    cache = (row["output_hash"], json.dumps({key: value}))
    if cache not in writer.derived:
        writer.derived[cache] = writer.payload({**writer.decoded(row["output_hash"]), key: value})
    row["output_hash"] = writer.derived[cache]


def _silent(
    writer: _Writer,
    truth: Truth,
    rng: random.Random,
    pipeline: str,
    day: int,
    run_id: str,
    attempts: list[dict[str, Any]],
) -> None:
    steps = {a["step_id"]: a for a in attempts if a["status"] == "succeeded"}
    draw = rng.random()
    if pipeline == "airtable-intake-to-linear" and "normalize" in steps and day >= 10:
        truth.patterns["S-default"].denominator += 1
        if draw < 0.08:
            _variant(writer, steps["normalize"], "priority", 0)
            _mark(truth, "S-default", run_id)
    if pipeline == "monday-digest" and "aggregate" in steps and day >= 18:
        truth.patterns["S-empty"].denominator += 1
        if draw < 0.05:
            _variant(writer, steps["aggregate"], "board", "")
            _mark(truth, "S-empty", run_id)
    if pipeline == "linear-triage-sync-wrong-priority-map" and "normalize" in steps and draw < 0.08:
        _variant(writer, steps["normalize"], "board_status", "Stuck")  # decoy: constant rate
    if pipeline == "monday-digest" and "read_board" in steps:
        truth.patterns["S-retry"].denominator += 1
        if rng.random() < 0.06:
            _absorbed_retry(attempts, steps["read_board"])
            _mark(truth, "S-retry", run_id)
    if pipeline == "linear-triage-sync" and "fetch_issue" in steps and day >= 20:
        truth.patterns["S-latency"].denominator += 1
        steps["fetch_issue"]["duration_ms"] = steps["fetch_issue"]["duration_ms"] * 4 + 200
        _mark(truth, "S-latency", run_id)


def _absorbed_retry(attempts: list[dict[str, Any]], success: dict[str, Any]) -> None:
    failed = dict(success)
    failed.update(status="failed", output_hash=None, error=json.dumps(RETRY_ERROR),
                  external_writes="[]", duration_ms=3)  # fmt: skip
    success["attempt"] = 2
    attempts.insert(attempts.index(success), failed)
