"""The Slack digest of insights: what the bot posts weekly and for ``/steptrace insights``.

:func:`digest_blocks` turns a report into Block Kit blocks (a header, one section per
top finding with its cited runs); :func:`insights_digest` analyses the store and returns
them, or one section with the clear message when the store cannot be analysed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracer.insights import Analysis, InsightsError

__all__ = ["digest_blocks", "insights_digest"]

TOP = 5


def digest_blocks(analysis: Analysis, top: int = TOP) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Insights: {analysis.runs} runs"},
        }
    ]
    for finding in analysis.findings[:top]:
        runs = ", ".join(f"`{r}`" for r in finding.cited_runs[:3])
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{finding.sentence}\n{runs}"}}
        )
    if len(blocks) == 1:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "No finding."}})
    return blocks


def insights_digest(store_url: str, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Blocks for the digest of the store at ``store_url``; never raises on bad input."""
    from orchestrator.insights.report import build_report

    try:
        return digest_blocks(build_report(store_url, since=since))
    except InsightsError as exc:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": str(exc)}}]
