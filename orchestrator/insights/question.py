"""``steptrace insights --question TEXT``: the configured judge asks the data layer.

1. The corpus is built in a temporary DuckDB file and reopened read-only
   (:mod:`tracer.insights.readonly`); the judge gets the views and their columns and
   writes one SELECT.
2. The query runs with a row and a time limit; one that writes, is not a single SELECT,
   fails or runs too long is refused with the reason (:class:`QueryRefusedError`).
3. The judge writes the answer from the result rows; every number in it must be a
   value of the result and every run it cites must exist and be a row of the result.
   An answer that fails the check is not shown as an answer: the result is, with what
   failed.

The judge is any langchain chat model (``STEPTRACE_JUDGE``); nothing of the answer's
facts comes from it unchecked.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from tracer.insights import load_corpus
from tracer.insights.groups import build_group_table
from tracer.insights.readonly import (
    AnswerCheck,
    QueryResult,
    check_answer,
    describe_views,
    open_readonly,
    run_query,
)

__all__ = ["QuestionAnswer", "answer_question", "render_answer"]

ROWS = 200
SECONDS = 10.0
SHOWN_ROWS = 20

_QUERY_PROMPT = """You answer questions about recorded automation runs by writing ONE
read-only DuckDB SQL SELECT over these tables and views (one row per run, step attempt,
step, failed rubric, diagnosis, external write of a failed run, low-cardinality leaf
value, attribute, failed run with its failure group):

{views}

Reply with the SQL only, in a ```sql block. Select run_id columns when the question is
about which runs; compute every number the answer needs (counts, rates) in the query."""

_ANSWER_PROMPT = """Question: {question}

The query
{sql}
returned these rows (columns: {columns}):
{rows}

Answer the question in at most three sentences. Use only numbers that appear in the
rows (a share may be written as a percentage) and cite run ids only from the rows."""


@dataclass(frozen=True)
class QuestionAnswer:
    question: str
    result: QueryResult
    answer: str
    check: AnswerCheck


def answer_question(
    store_url: str,
    question: str,
    model: BaseChatModel,
    *,
    since: datetime | None = None,
    pipeline: str | None = None,
    rows: int = ROWS,
    seconds: float = SECONDS,
) -> QuestionAnswer:
    """Ask ``model`` to answer ``question`` with a query over the store's corpus.

    Raises :class:`tracer.insights.InsightsError` for a store that cannot be analysed
    and :class:`tracer.insights.readonly.QueryRefusedError` for a refused query."""
    with tempfile.TemporaryDirectory(prefix="steptrace-question-") as folder:
        path = Path(folder) / "corpus.duckdb"
        corpus = load_corpus(store_url, since=since, pipeline=pipeline, file=path)
        try:
            build_group_table(corpus)
        finally:
            corpus.close()
        con = open_readonly(path)
        try:
            prompt = _QUERY_PROMPT.format(views=describe_views(con))
            sql = _sql_of(_ask(model, prompt, question))
            result = run_query(con, sql, rows=rows, seconds=seconds)
            answer = _ask(
                model, "You report facts from query results.", _answer_prompt(question, result)
            )
            return QuestionAnswer(question, result, answer, check_answer(con, answer, result))
        finally:
            con.close()


def _ask(model: BaseChatModel, system: str, human: str) -> str:
    reply = model.invoke([SystemMessage(content=system), HumanMessage(content=human)])
    content = reply.content
    return (content if isinstance(content, str) else " ".join(map(str, content))).strip()


def _sql_of(reply: str) -> str:
    """The SQL of a reply: the first fenced block, else the whole reply."""
    fenced = re.search(r"```(?:sql)?\s*(.*?)```", reply, re.S | re.I)
    return (fenced.group(1) if fenced else reply).strip()


def _answer_prompt(question: str, result: QueryResult) -> str:
    rows = "\n".join(" | ".join(str(c) for c in row) for row in result.rows[:ROWS])
    return _ANSWER_PROMPT.format(
        question=question, sql=result.sql, columns=", ".join(result.columns), rows=rows
    )


def render_answer(qa: QuestionAnswer) -> str:
    """The answer (when it passed the check), the query and its first rows."""
    result = qa.result
    lines = [f"Question: {qa.question}", ""]
    if qa.check.ok:
        lines.append(qa.answer)
        if qa.check.cited_runs:
            lines.append("Cited runs (each a row of the result): " + ", ".join(qa.check.cited_runs))
    else:
        lines.append("The judge's answer is not shown: it does not match the query's result.")
        lines += [f"  - {problem}" for problem in qa.check.problems]
    more = " (more rows were cut)" if result.truncated else ""
    lines += ["", f"Query: {result.sql}", f"Result: {len(result.rows)} rows{more}"]
    lines.append("  " + " | ".join(result.columns))
    lines += ["  " + " | ".join(str(c) for c in row) for row in result.rows[:SHOWN_ROWS]]
    return "\n".join(lines)
