"""The payload tree and the diff template, as plain functions."""

from __future__ import annotations

from pathlib import Path

import orchestrator.console.app as console_app_module
from orchestrator.console.json_tree import render_tree
from orchestrator.console.render import Renderer


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


def test_a_unified_diff_keeps_one_line_per_line() -> None:
    renderer = Renderer(Path(console_app_module.__file__).parent / "templates")
    html = renderer.env.get_template("_diff.html").render(
        text="--- a\n+++ b\n@@ -1 +1 @@\n ctx\n-old\n+new", label="fix"
    )
    assert "<span> ctx</span>\n<del>-old</del>\n<ins>+new</ins>\n</pre>" in html
