"""The weekly insights digest as a Temporal workflow: one activity analyses the store and
posts the top findings to the configured Slack channel.

A Temporal Schedule (:mod:`orchestrator.insights.digest_schedule`) starts it; the
activity (:class:`DigestActivities`) is registered by every worker
(``service/composition.py``). The post carries an idempotency key per firing, so a retry
after a lost response does not post twice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from connectors.slack.client import SlackClient

__all__ = [
    "DIGEST_ACTIVITY",
    "DIGEST_WORKFLOW",
    "DigestActivities",
    "DigestInput",
    "DigestResult",
    "InsightsDigestWorkflow",
]

DIGEST_WORKFLOW = "InsightsDigestWorkflow"
DIGEST_ACTIVITY = "post_insights_digest"


class DigestInput(BaseModel):
    channel: str
    days: int | None = None  # only the runs of the last ``days`` days (None: every run)


class DigestResult(BaseModel):
    channel: str
    ts: str
    findings: int


@workflow.defn(name=DIGEST_WORKFLOW)
class InsightsDigestWorkflow:
    @workflow.run
    async def run(self, params: DigestInput) -> DigestResult:
        result: DigestResult = await workflow.execute_activity(
            DIGEST_ACTIVITY,
            params,
            result_type=DigestResult,
            # 1 M runs take up to a minute to analyse; leave room for a loaded machine
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return result


class DigestActivities:
    """The digest's one activity, handed the store's URL and the Slack client."""

    def __init__(self, store_url: str, slack: SlackClient) -> None:
        self._store_url = store_url
        self._slack = slack

    @activity.defn(name=DIGEST_ACTIVITY)
    async def post_digest(self, params: DigestInput) -> DigestResult:
        from orchestrator.insights.digest import digest_text, insights_digest

        info = activity.info()
        since = None if params.days is None else datetime.now(UTC) - timedelta(days=params.days)
        blocks = await asyncio.to_thread(insights_digest, self._store_url, since=since)
        posted = await self._slack.post_message(
            params.channel,
            digest_text(blocks),
            blocks=blocks,
            idempotency_key=f"insights-digest/{info.workflow_id}/{info.workflow_run_id}",
        )
        findings = sum("\nruns: " in str(b["text"]["text"]) for b in blocks[1:])
        return DigestResult(channel=posted.channel, ts=posted.ts, findings=findings)
