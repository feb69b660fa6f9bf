"""Two runs of ours on the same row are told apart from a person's edit.

Run B starts after run A but writes the row first; A then reads B's write as the row's
"before". Against the last *earlier* run's image that looks like someone changed the
row, and A's overwrite would be blamed on "a person". The evidence now carries what our
overlapping runs wrote (``concurrent_after``), and only a value none of our runs wrote
counts as a person's.
"""

from __future__ import annotations

from rubrics.model import Outcome
from tests.rubrics.evidence_data import clean_run, step
from tests.rubrics.test_deterministic import run_one


def _overwrite(concurrent_after: list[dict[str, object]]) -> Outcome:
    data = clean_run()
    write = step(data, "upsert_airtable")["writes"][0]
    write.update(
        action="updated",
        previous_run="wf/earlier",
        previous_after={"fields": {"Status": "Todo"}},
        before={"fields": {"Status": "In Progress"}},  # what run B wrote a moment ago
        after={"fields": {"Status": "In Review"}},
        concurrent_after=concurrent_after,
    )
    return run_one("integrity.no_stale_overwrite", data).outcome


def test_our_concurrent_runs_write_is_not_a_persons_edit() -> None:
    assert _overwrite([{"fields": {"Status": "In Progress"}}]) == Outcome.PASS


def test_a_value_none_of_our_runs_wrote_is_still_a_persons_edit() -> None:
    assert _overwrite([]) == Outcome.FAIL
    assert _overwrite([{"fields": {"Status": "Backlog"}}]) == Outcome.FAIL
