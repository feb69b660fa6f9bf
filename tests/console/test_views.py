"""The payload tree and the failure fingerprint, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orchestrator.console.app as console_app_module
from orchestrator.console.fingerprint import UNDIAGNOSED, fingerprint, group
from orchestrator.console.json_tree import render_tree
from orchestrator.console.render import Renderer
from tracer.store import RunRecord, RunStatus

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_tree_escapes_marks_redactions_and_highlights_changes() -> None:
    value = {
        "title": "<script>alert(1)</script>",
        "token": "Bearer [redacted: bearer token]",
        "fields": {"Priority": "Low", "Tags": ["a", "b"]},
    }
    html = str(render_tree(value, changed={("fields", "Priority"): "High"}, open_depth=0))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<span class="redacted"' in html and "[redacted: bearer token]" in html
    assert '<span class="changed"><span class="key">Priority</span>' in html
    assert "last good: &quot;High&quot;" in html
    # the branch leading to the change opens by itself; the other stays closed
    assert '<details open><summary><span class="key">fields</span>' in html
    assert '<details><summary><span class="key">Tags</span>' in html


def test_a_big_tree_stops_and_says_how_much_it_left_out() -> None:
    html = str(render_tree({"items": list(range(1000))}, max_nodes=50))
    assert html.count("<li>") < 60
    assert "more values not shown" in html


def _failed(n: int, step: str = "upsert") -> RunRecord:
    return RunRecord(
        run_id=f"wf-{n}/r",
        pipeline="p",
        status=RunStatus.FAILED,
        failed_step=step,
        started_at=T0 + timedelta(minutes=n),
    )


def test_failures_group_by_pipeline_onset_fault_class_and_failed_step() -> None:
    drift = {"onset_step": "normalize", "fault_class": "upstream_schema_drift"}
    groups = group(
        [(_failed(1), drift), (_failed(2), drift), (_failed(3), None), (_failed(4, "post"), drift)]
    )
    assert [(g.count, g.fingerprint.fault_class, g.fingerprint.failed_step) for g in groups] == [
        (2, "upstream_schema_drift", "upsert"),
        (1, UNDIAGNOSED, "upsert"),  # same count: by label
        (1, "upstream_schema_drift", "post"),
    ]
    assert groups[0].latest_run_id == "wf-2/r" and groups[0].first_seen == T0 + timedelta(minutes=1)
    assert fingerprint(_failed(1), drift).key == fingerprint(_failed(9), drift).key
    assert "started at normalize, failed at upsert" in groups[0].label


def test_a_unified_diff_keeps_one_line_per_line() -> None:
    renderer = Renderer(Path(console_app_module.__file__).parent / "templates")
    html = renderer.env.get_template("_diff.html").render(
        text="--- a\n+++ b\n@@ -1 +1 @@\n ctx\n-old\n+new", label="fix"
    )
    assert "<span> ctx</span>\n<del>-old</del>\n<ins>+new</ins>\n</pre>" in html
