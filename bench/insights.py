"""Benchmark: ``steptrace bench insights`` — planted patterns in a corpus of real runs.

1. Record the template runs for real (the five scenarios ``bench why`` uses).
2. Clone them into ``runs`` runs over four weeks with planted patterns and chance decoys
   (:mod:`bench.insights_corpus`), keeping the ground truth.
3. Analyse the store in a child process (``tracer.insights.analyse`` with the spec's
   default hints, what ``steptrace insights`` runs): wall time and peak memory (RSS).
4. Score: recall (truth patterns found, with the right condition / change day),
   precision (findings that match a truth pattern), prevalence error (percentage
   points), citations (every cited run exhibits its pattern, by the generator's record).

    python -m bench.insights [--runs N] [--json] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.docs import DOCS, replace_section
from bench.insights_corpus import FIRST_DAY, Pattern, Truth, build
from bench.machine import describe_line, load_line
from orchestrator.scenarios import Progress

__all__ = ["analyse_child", "main", "run", "score", "write_docs"]

SECTION = "## Insights"
BUDGET_SECONDS = 10.0  # 100 000 runs
BUDGET_SECONDS_1M = 60.0  # 1 000 000 runs


def budget_seconds(runs: int) -> float:
    """DESIGN §8: 100 000 runs in ≤ 10 s, 1 000 000 in ≤ 60 s."""
    return BUDGET_SECONDS if runs <= 100_000 else BUDGET_SECONDS_1M


def analyse_child(url: str) -> dict[str, Any]:
    """Run the analysis in a fresh process; its findings, wall time and peak RSS."""
    code = (
        "import json, sys, time; t = time.perf_counter()\n"
        "from orchestrator.insights.report import build_report\n"
        f"a = build_report({url!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'runs': a.runs,"
        " 'findings': [f.model_dump(mode='json') for f in a.findings]}))\n"
    )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss
    result: dict[str, Any] = json.loads(out.stdout)
    result["process_seconds"] = wall
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime - cpu_before
    result["peak_rss_mb"] = max(peak, before) / 1024
    return result


def _day(text: str | None) -> int | None:
    if text is None:
        return None
    return (datetime.fromisoformat(text).replace(tzinfo=UTC) - FIRST_DAY) // timedelta(days=1)


def _matches(finding: dict[str, Any], pattern: Pattern, truth: Truth) -> bool:
    if finding["pipeline"] != pattern.pipeline:
        return False
    kind = str(finding["kind"])
    if pattern.kind == "failure_group":
        return kind == "failure_group" and bool(finding["step"] == pattern.step)
    if pattern.kind == "explanation":
        wanted = {
            k: (truth.version_v2[:8] if k == "version" else v)
            for k, v in pattern.conditions.items()
        }
        got = {c["attr"]: c["value"] for c in finding["conditions"]}
        return kind == "explanation" and finding["step"] == pattern.step and got == wanted
    if kind != pattern.kind or finding["step"] != pattern.step:
        return False
    if pattern.path is not None and (finding["path"], finding["value"]) != (
        pattern.path,
        pattern.value,
    ):
        return False
    if pattern.since_day is not None:
        found = _day(finding["change_day"])
        return found is not None and abs(found - pattern.since_day) <= 1
    return True


def score(findings: list[dict[str, Any]], truth: Truth) -> dict[str, Any]:
    matched: dict[str, dict[str, Any]] = {}
    unmatched = []
    citations = valid = 0
    for finding in findings:
        hit = next((p for p in truth.patterns.values() if _matches(finding, p, truth)), None)
        if hit is None:
            unmatched.append(finding["sentence"])
        else:
            matched.setdefault(hit.id, finding)
        for run_id in finding["cited_runs"]:
            citations += 1
            valid += int(hit is not None and run_id in hit.runs)
    errors = []
    for pid, finding in matched.items():
        pattern = truth.patterns[pid]
        if pattern.kind == "latency_shift":
            continue
        true_rate = len(pattern.runs) / max(1, pattern.denominator)
        errors.append(abs(finding["prevalence"]["rate"] - true_rate) * 100)
    planted = [p for p in truth.patterns.values()]
    return {
        "truth_patterns": len(planted),
        "found": len(matched),
        "recall": round(len(matched) / len(planted), 3),
        "findings": len(findings),
        "precision": round((len(findings) - len(unmatched)) / max(1, len(findings)), 3),
        "prevalence_error_pp_max": round(max(errors, default=0.0), 2),
        "prevalence_error_pp_mean": round(sum(errors) / max(1, len(errors)), 2),
        "citations": citations,
        "citations_valid": round(valid / max(1, citations), 3),
        "missed": sorted(set(truth.patterns) - set(matched)),
        "unmatched": unmatched[:10],
    }


def run(*, runs: int = 100_000, progress: Progress | None = None) -> dict[str, Any]:
    from bench.large_store import record_templates

    say = progress or (lambda _m: None)
    load_before = load_line()
    with tempfile.TemporaryDirectory(prefix="steptrace-bench-insights-") as folder:
        path = Path(folder) / "trace.db"
        url = f"sqlite:///{path}"
        say("recording template runs")
        asyncio.run(record_templates(url, say))
        say(f"synthesising {runs} runs with planted patterns")
        started, cpu = time.perf_counter(), time.process_time()
        truth = build(path, runs)
        build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        size = path.stat().st_size
        say(f"analysing ({size / 1e6:.0f} MB store, built in {build_seconds:.0f} s)")
        load_analysis = load_line()
        analysis = analyse_child(url)
    result = score(analysis["findings"], truth)
    result.update(
        runs=runs,
        seconds=round(analysis["seconds"], 2),
        process_seconds=round(analysis["process_seconds"], 2),
        cpu_seconds=round(analysis["cpu_seconds"], 2),
        peak_rss_mb=round(analysis["peak_rss_mb"], 0),
        store_mb=round(size / 1e6, 1),
        build_seconds=round(build_seconds, 1),
        build_cpu_seconds=round(build_cpu, 1),
        budget_seconds=budget_seconds(runs),
        budget_met=analysis["seconds"] <= budget_seconds(runs),
        load_average=load_before,
        load_average_analysis=load_analysis,
    )
    return result


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite this corpus size's section of docs/benchmarks.md ("## Insights" for the
    budgeted 100 000 runs, "## Insights at N runs" otherwise)."""
    heading = SECTION if result["runs"] == 100_000 else f"{SECTION} at {result['runs']} runs"
    missed = ", ".join(result["missed"]) or "none"
    unmatched = "; ".join(result["unmatched"]) or "none"
    section = f"""{heading}

Budgets (DESIGN §8): planted-pattern recall ≥ 0.9, precision ≥ 0.9, prevalence within
±1 pp, 100 % of citations valid, 100 000 runs in ≤ {BUDGET_SECONDS:.0f} s and 1 000 000 in
≤ {BUDGET_SECONDS_1M:.0f} s.

{_table(result)}

Time budget ({result["budget_seconds"]:.0f} s at this size) {
        "met" if result["budget_met"] else "**missed**"
    } on wall time, at the load average below (CPU time {result["cpu_seconds"]} s).
Missed patterns: {missed}. Findings matching no truth pattern: {unmatched}.

The corpus: {result["runs"]} runs ({result["store_mb"]} MB SQLite on disk) cloned in
{result["build_seconds"]} s ({result["build_cpu_seconds"]} s CPU; not part of the analysis
time) from real runs of five scenarios (five pipelines) by `bench/insights_corpus.py`
(on `bench/large_store.py`), over 28 days. Truth: six failure groups (three with planted
conditions — `trigger.team = OPS`; `trigger.priority = urgent and trigger.source =
schedule`; a second spec version failing QC since day 14 — and three at random, the
decoys for explanations), a value-map default taken since day 10, a field emptied since
day 18, a 429 absorbed by a retry, a latency shift since day 20 — and one pattern of the
recorded runs themselves: the failed run of the due-date pipeline took the spec's
default for the due date, so its clones do too. Decoys of the same
size: a random trigger field (`region`), failure groups with no condition, a value at
a constant 8 % (no change). The prevalence error compares each matched finding's k/N with
the planted share over the same denominator (the pipeline's runs, or its runs since the
planted day): it is non-zero when a change day is found late or a group's runs are split
or merged wrongly. A citation is valid when the generator put that run into the
pattern. "analysis" is `build_report` in a fresh process (load,
groups, DIFF, silent patterns); "process" adds interpreter start and imports; "CPU" is
the user + system time of that process over all its threads (DuckDB uses two): on a
shared machine the wall times stretch with the load average below, the CPU time does
not.

- Command: `{command}`
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the run started: {result["load_average"]}; when the analysis
  started: {result["load_average_analysis"]}
"""
    replace_section(heading, section, docs)


def _table(result: dict[str, Any]) -> str:
    header = [
        "runs", "recall", "precision", "prevalence error (max / mean)", "citations valid",
        "analysis", "process", "CPU (all threads)", "peak RSS",
    ]  # fmt: skip
    cells = [
        str(result["runs"]),
        f"{result['recall']} ({result['found']}/{result['truth_patterns']})",
        f"{result['precision']} ({result['findings']} findings)",
        f"{result['prevalence_error_pp_max']} / {result['prevalence_error_pp_mean']} pp",
        f"{result['citations_valid']} of {result['citations']}",
        f"{result['seconds']} s",
        f"{result['process_seconds']} s",
        f"{result['cpu_seconds']} s",
        f"{result['peak_rss_mb']:.0f} MB",
    ]
    rows = [header, ["---"] * len(header), cells]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    result = run(runs=args.runs, progress=lambda m: print(m, file=sys.stderr))
    if args.write_docs:
        write_docs(result, f"python -m bench.insights --runs {args.runs}")
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
