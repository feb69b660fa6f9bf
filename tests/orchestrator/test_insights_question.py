"""``steptrace insights --question``: the judge writes a query, the data layer answers.

The judge's chat model is faked with langchain-core's ``FakeListChatModel`` (the one
allowed test double: it replies with the query, then the answer, in that order); the
store, the corpus file, the read-only DuckDB connection and the checks are real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from orchestrator.insights.question import answer_question, render_answer
from tests.tracer.insights.corpus import fill_store
from tracer.insights.readonly import QueryRefusedError
from tracer.store import TraceStore

STEPTRACE = Path(sys.executable).with_name("steptrace")
FAILED = "```sql\nSELECT run_id, status FROM runs WHERE failed ORDER BY run_id LIMIT 3\n```"
COUNT = "SELECT count(*) AS failed, count(*) / 120 AS share FROM runs WHERE failed"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('question') / 'trace.db'}"
    with TraceStore.open(url) as store:
        fill_store(store, runs=120)
    return url


def _model(*replies: str) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies))


def test_an_answer_cites_runs_of_the_result(url: str) -> None:
    first = _first_failed(url)
    qa = answer_question(url, "which runs failed?", _model(FAILED, f"Run {first} failed."))
    assert qa.check.ok, qa.check.problems
    assert qa.check.cited_runs == [first]
    assert qa.result.columns == ["run_id", "status"] and len(qa.result.rows) == 3
    assert f"Run {first} failed." in render_answer(qa)


def test_numbers_must_come_from_the_result(url: str) -> None:
    failed = len(_all_failed(url))
    share = 100 * failed / 120
    honest = f"{failed} runs failed, {share:.1f} % of them."
    qa = answer_question(url, "how many failed?", _model(COUNT, honest))
    assert qa.check.ok, qa.check.problems
    invented = answer_question(url, "how many failed?", _model(COUNT, f"{failed + 7} failed."))
    assert not invented.check.ok
    assert f"states {failed + 7}" in invented.check.problems[0]
    assert "is not shown" in render_answer(invented)


def test_a_cited_run_must_exist_and_be_in_the_result(url: str) -> None:
    good = _first_good(url)
    qa = answer_question(url, "q", _model(FAILED, f"Run {good} failed; so did p-9/00000000."))
    problems = " ".join(qa.check.problems)
    assert f"cites run {good}, which is not a row" in problems
    assert "p-9/00000000, which is not in the corpus" in problems


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM runs", "is a DELETE statement"),
        ("CREATE TABLE x AS SELECT 1", "is a CREATE statement"),
        ("SELECT 1; DROP TABLE runs", "2 statements"),
        ("SELECT * FROM read_csv('/etc/passwd')", "the query failed"),
        ("SELECT nope FROM runs", "the query failed"),
        ("SELEC 1", "does not parse"),
    ],
)
def test_a_query_that_writes_or_fails_is_refused(url: str, sql: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError, match=reason):
        answer_question(url, "q", _model(sql, "unused"))


def test_no_judge_is_one_line_and_exit_2(url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "STEPTRACE_JUDGE"}
    done = subprocess.run(
        [str(STEPTRACE), "insights", "--question", "which runs failed?"],
        capture_output=True,
        text=True,
        env=env | {"STEPTRACE_DATABASE_URL": url},
        timeout=120,
    )
    assert done.returncode == 2
    assert "STEPTRACE_JUDGE" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _all_failed(url: str) -> list[str]:
    with TraceStore.open(url) as store:
        return sorted(r.run_id for r in store.list_runs(limit=1000) if r.status.value == "failed")


def _first_failed(url: str) -> str:
    return _all_failed(url)[0]


def _first_good(url: str) -> str:
    with TraceStore.open(url) as store:
        return sorted(
            r.run_id for r in store.list_runs(limit=1000) if r.status.value == "succeeded"
        )[0]
