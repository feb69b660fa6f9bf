"""The tracing-overhead benchmark, run small: its result has the right shape and is sane.

No timing is asserted (a benchmark's figures are read, never tested); what is checked is
that both modes did the same work, that the ratios are real numbers, and that the store
keeps its payloads compressed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.docs import read_section
from bench.overhead import ISSUES, SECTION, Plan, run, write_docs

PLAN = Plan(runs=4, block=2, concurrency=2, issues=ISSUES[:4])


async def test_a_small_run_reports_both_modes_and_both_ratios() -> None:
    result = await run(plan=PLAN)

    assert result["capture_errors"] == []
    assert result["runs_per_mode"] == {"untraced": 4, "traced": 4}
    assert result["succeeded"] == {"untraced": 4, "traced": 4}, result["failures"]
    for key in ("throughput_ratio", "paired_ratio_median", "storage_ratio", "compression_ratio"):
        value = result[key]
        assert isinstance(value, float) and value > 0, (key, value)
    rates = result["runs_per_second"]
    assert isinstance(rates, dict) and all(rate > 0 for rate in rates.values())

    # Traced: warm-up (half of the issues) plus the measured runs, five steps each.
    assert result["attempts"] == 5 * (len(PLAN.issues) // 2 + PLAN.runs)
    assert isinstance(result["snapshots"], int) and result["snapshots"] > result["attempts"]
    stored, raw, distinct = (
        result["stored_bytes"],
        result["raw_bytes"],
        result["distinct_raw_bytes"],
    )
    assert isinstance(stored, int) and isinstance(raw, int) and isinstance(distinct, int)
    assert 0 < stored < distinct <= raw
    assert json.loads(json.dumps(result)) == result  # `--json` prints it as is


async def test_write_docs_replaces_only_its_own_section(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Structural diff\n\nkept as is\n", encoding="utf-8")
    result = _fake_result()

    missed = result | {"throughput_budget_met": False, "storage_budget_met": False}
    write_docs(result, "steptrace bench overhead --runs 40", docs)
    write_docs(result, "steptrace bench overhead --runs 200", docs)
    write_docs(missed, "steptrace bench overhead --runs 40", docs)

    text = docs.read_text(encoding="utf-8")
    assert "## Structural diff\n\nkept as is\n" in text
    section = read_section(SECTION, docs)
    history = [line for line in section.splitlines() if line.startswith("| `steptrace")]
    prose = " ".join(section.split())
    assert "The budget (0.95) is missed in this run by 0.020" in prose
    assert "The budget is missed by" in prose  # storage
    assert [line.split("`")[1] for line in history] == [
        "steptrace bench overhead --runs 40",
        "steptrace bench overhead --runs 200",
    ]


def _fake_result() -> dict[str, object]:
    """Figures of the shape `run` returns, for the docs writer alone."""
    return {
        "throughput_ratio": 0.96,
        "storage_ratio": 0.2,
        "backend": "sqlite",
        "throughput_budget": 0.95,
        "throughput_budget_met": True,
        "storage_budget_met": True,
        "runs_per_mode": {"untraced": 40, "traced": 40},
        "succeeded": {"untraced": 40, "traced": 40},
        "runs_per_second": {"untraced": 4.0, "traced": 3.9},
        "seconds": {"untraced": 10.0, "traced": 10.3},
        "paired_ratio_median": 0.93,
        "paired_ratio_quartiles": [0.9, 0.93, 0.97],
        "paired_ratios": [0.9, 0.93, 0.97],
        "cpu_ms_per_run": {"untraced": 200.0, "traced": 240.0},
        "tracer_threads_cpu_ms_per_run": 30.0,
        "steps_per_run": 5.0,
        "capture_cpu_us_per_step": 8000,
        "isolated_capture_us": 400,
        "otel_span_us": 30.36,
        "warm_up_runs": 60,
        "issues": 60,
        "block": 16,
        "concurrency": 8,
        "attempts": 350,
        "snapshots": 1080,
        "payloads": 880,
        "raw_bytes": 1000,
        "distinct_raw_bytes": 800,
        "stored_bytes": 200,
        "compression_ratio": 0.25,
        "runs": 70,
        "dictionaries": 1,
        "dictionary_bytes": 16384,
        "payloads_with_dictionary": 700,
        "group_commit": {
            "batches": 10,
            "records": 350,
            "retries": 0,
            "inline": 5,
            "dictionaries": 1,
        },
        "load_average": "1.00 / 1.00 / 1.00 (1 / 5 / 15 min)",
        "load_average_after": "1.00 / 1.00 / 1.00 (1 / 5 / 15 min)",
    }


async def test_a_small_run_with_the_store_on_postgresql(pg_base_url: str) -> None:
    """The traced store in a schema of its own, dropped afterwards; the budget is 0.93."""
    plan = Plan(runs=2, block=2, concurrency=2, issues=ISSUES[:2], database_url=pg_base_url)
    result = await run(plan=plan)

    assert result["capture_errors"] == []
    assert result["backend"] == "postgresql" and result["throughput_budget"] == 0.93
    assert result["succeeded"] == {"untraced": 2, "traced": 2}, result["failures"]
    assert result["attempts"] == 5 * (1 + plan.runs)
    assert isinstance(result["capture_cpu_us_per_step"], int)
    assert isinstance(result["isolated_capture_us"], int) and result["isolated_capture_us"] > 0
