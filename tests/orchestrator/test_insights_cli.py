"""``steptrace insights`` as a user runs it (the console script, a real SQLite store), and
the Slack digest the bot posts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.insights.digest import insights_digest
from tests.tracer.insights.corpus import fill_store
from tracer.store import TraceStore

STEPTRACE = Path(sys.executable).with_name("steptrace")
# The spec's value map has a default: the report must watch it (default_taken).
SPEC = """\
name: p
steps:
  - id: read
    op: transform
    map:
      priority: {from: trigger.priority, values: {high: 1, low: 2}, default: 0}
"""


def _steptrace(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"STEPTRACE_DATABASE_URL": url}
    return subprocess.run(
        [str(STEPTRACE), *args], capture_output=True, text=True, env=env, timeout=120
    )


def _store(tmp_path: Path, runs: int) -> str:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    with TraceStore.open(url) as store:
        if runs:
            store.save_pipeline_version("p", SPEC)
            fill_store(store, runs=runs, silent=True)
    return url


def test_findings_cite_runs_that_show_opens(tmp_path: Path) -> None:
    url = _store(tmp_path, 160)
    done = _steptrace(url, "insights", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    kinds = {f["kind"] for f in report["findings"]}
    assert {"failure_group", "explanation", "retry_absorbed", "default_taken"} <= kinds
    for finding in report["findings"]:
        assert len(finding["cited_runs"]) >= 3
        assert "/" in finding["sentence"] and "CI" in finding["sentence"]
    shown = _steptrace(url, "show", report["findings"][0]["cited_runs"][0], "--json")
    assert shown.returncode == 0, shown.stderr
    markdown = _steptrace(url, "insights", "--md")
    assert markdown.stdout.startswith("# Insights over 160 runs")


def test_cohort_comparison_and_its_errors(tmp_path: Path) -> None:
    url = _store(tmp_path, 120)
    ops = "trigger.team = 'OPS'"
    done = _steptrace(url, "insights", "--cohort", ops, "--vs", f"not {ops}", "--json")
    assert done.returncode == 0, done.stderr
    keys = {f["key"] for f in json.loads(done.stdout)["findings"]}
    assert "cohort|failed" in keys
    bad = _steptrace(url, "insights", "--cohort", "team ==", "--vs", "day > 1")
    assert bad.returncode == 2
    assert "does not parse" in bad.stderr and "^" in bad.stderr
    assert "Traceback" not in bad.stderr
    alone = _steptrace(url, "insights", "--cohort", "day > 1")
    assert alone.returncode == 2 and "--cohort and --vs go together" in alone.stderr


def test_bad_stores_exit_2(tmp_path: Path) -> None:
    empty = _store(tmp_path, 0)
    done = _steptrace(empty, "insights")
    assert done.returncode == 2
    assert "no finished runs" in done.stderr
    missing = _steptrace(f"sqlite:///{tmp_path / 'nope.db'}", "insights")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_slack_digest(tmp_path: Path) -> None:
    blocks = insights_digest(_store(tmp_path, 160))
    assert blocks[0]["type"] == "header"
    texts = [b["text"]["text"] for b in blocks[1:]]
    assert len(texts) == 5 and all("/" in t and "`p-" in t for t in texts)
    empty = insights_digest(f"sqlite:///{tmp_path / 'nope.db'}")
    assert "does not exist" in empty[1]["text"]["text"]
