"""The fault benchmark's ledger on a tiny run: it must see the objects it judges."""

from __future__ import annotations

from bench.faults import one_rate


async def test_a_small_run_under_faults_is_accounted_for() -> None:
    figures = await one_rate(0.25, runs=3)
    assert figures["runs"] == 3 and figures["completed"] <= 3
    # 3 issues: each run creates an Airtable record, a Monday item and a Slack message.
    assert figures["new_objects"] >= 6, figures
    assert figures["duplicates"] == 0
    assert figures["untraced_writes"] == 0, figures["untraced_examples"]
    assert figures["secrets_found"] == 0
