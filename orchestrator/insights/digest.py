"""The Slack digest of insights: what the weekly schedule posts and ``/steptrace insights``
answers.

:func:`digest_blocks` turns a report into Block Kit blocks — a header, then one section
per top finding: its sentence (with ``k/N (x %, CI)``) and three cited runs by their
short ids, which ``steptrace show`` and ``/steptrace why`` open. :func:`insights_digest`
analyses the store and returns them, or one section with the clear message when the
store cannot be analysed; :func:`digest_text` is the same as plain text (the message's
fallback and the slash command's answer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracer.insights import Analysis, Finding, InsightsError

__all__ = ["digest_blocks", "digest_text", "insights_digest", "short_run"]

TOP = 5
CITED = 3


def short_run(run_id: str) -> str:
    """``<workflow id>/<first 8 of the run id>``: unique, and a prefix ``find_run`` opens."""
    workflow, _, temporal = run_id.rpartition("/")
    return f"{workflow}/{temporal[:8]}" if workflow and len(temporal) > 8 else run_id


def _line(finding: Finding) -> str:
    runs = ", ".join(f"`{short_run(r)}`" for r in finding.cited_runs[:CITED])
    return f"{finding.sentence}\nruns: {runs}"


def digest_blocks(analysis: Analysis, top: int = TOP) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Insights: {analysis.runs} runs"},
        }
    ]
    for finding in analysis.findings[:top]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _line(finding)}})
    if len(blocks) == 1:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "No finding: no pattern of three runs or more."},
            }
        )
    return blocks


def digest_text(blocks: list[dict[str, Any]]) -> str:
    """The blocks as plain text, one paragraph each."""
    return "\n\n".join(
        f"*{b['text']['text']}*" if b["type"] == "header" else str(b["text"]["text"])
        for b in blocks
    )


def insights_digest(store_url: str, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Blocks for the digest of the store at ``store_url``; never raises on bad input."""
    from orchestrator.insights.report import build_report

    try:
        return digest_blocks(build_report(store_url, since=since))
    except InsightsError as exc:
        return [
            {"type": "header", "text": {"type": "plain_text", "text": "Insights: no report"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": str(exc)}},
        ]
