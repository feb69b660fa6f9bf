"""Secrets never reach the trace store: not in a payload, a cell, nor the SQLite file bytes.

A secret arrives two ways: inside tool data (a Linear issue description where someone
pasted a Slack bot token and an ``Authorization: Bearer …`` line, planted with a
``corrupt_value`` fault; the reference pipeline hands the whole issue to ``normalize``)
and inside the trigger (request headers). The reference pipeline runs with tracing into
a SQLite file and into PostgreSQL, and every byte the database holds is searched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from connectors.sandbox.faults import Fault
from orchestrator.service.stack import RunOutcome, Stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.databases import all_database_text
from tests.orchestrator.conftest import StackFactory

# Synthetic, realistic-looking secrets (no real credentials anywhere in the tests).
SLACK_TOKEN = "xoxb-2718281828-3141592653589-Zq8vN3kLm2Pw7Rt5Yx1Bc9Df"
DESCRIPTION_BEARER = "7hV2kQ9xLm4PzR8sT1wY6bN3cJ5dF0gHa2"
TRIGGER_BEARER = "Qm4nR7tV1wX9zB3cD6fG8hJ2kL5pS0uYe"
TRIGGER_API_KEY = "ak_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRETS = (SLACK_TOKEN, DESCRIPTION_BEARER, TRIGGER_BEARER, TRIGGER_API_KEY)

DESCRIPTION = (
    "The sync bot stopped posting. Config from the ops box:\n"
    f"SLACK_BOT_TOKEN={SLACK_TOKEN}\n"
    "curl -H 'Content-Type: application/json' \\\n"
    f"  -H 'Authorization: Bearer {DESCRIPTION_BEARER}' https://hooks.example.invalid/notify\n"
)
TRIGGER: dict[str, Any] = {
    "issue": "ENG-101",
    "headers": {"Authorization": f"Bearer {TRIGGER_BEARER}", "x-api-key": TRIGGER_API_KEY},
}
PLANTED = [Fault(service="linear", kind="corrupt_value", target="description", value=DESCRIPTION)]


async def test_secrets_never_reach_a_sqlite_store(
    make_stack: StackFactory, reference: LoadedPipeline, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'secrets' / 'trace.db'}"
    async with make_stack(faults=PLANTED, database_url=url) as stack:
        outcome = await stack.run(reference, TRIGGER)
        _assert_planted(stack, outcome)
        # While the store is open the newest pages may live in the WAL file only.
        assert _wal_exists(url), "expected the store's WAL file while it is open"
        while_open = all_database_text(url)
        markers = _payload_texts(stack, outcome)

    assert b"[redacted: Slack token]" in while_open  # the scan does read the payloads
    _assert_no_secret(while_open)
    _assert_no_secret(all_database_text(url))  # after close and checkpoint, too
    _assert_markers(markers)


async def test_secrets_never_reach_a_postgresql_store(
    make_stack: StackFactory, reference: LoadedPipeline, pg_url: str
) -> None:
    async with make_stack(faults=PLANTED, database_url=pg_url) as stack:
        outcome = await stack.run(reference, TRIGGER)
        _assert_planted(stack, outcome)
        markers = _payload_texts(stack, outcome)
    scanned = all_database_text(pg_url)

    assert b"[redacted: Slack token]" in scanned  # the scan does read the payloads
    _assert_no_secret(scanned)
    _assert_markers(markers)


def _wal_exists(url: str) -> bool:
    return Path(f"{make_url(url).database}-wal").exists()


def _assert_planted(stack: Stack, outcome: RunOutcome) -> None:
    """The secret really travelled: the run carried it from Linear through the handoffs."""
    assert outcome.status == "succeeded", outcome.error
    assert SLACK_TOKEN in outcome.outputs["fetch_issue"]["description"]
    assert stack.store is not None
    steps = [a.step_id for a in stack.store.attempts(outcome.run_id)]
    assert steps[:2] == ["fetch_issue", "normalize"]


def _payload_texts(stack: Stack, outcome: RunOutcome) -> str:
    """The decoded trigger and handoffs of the run, as stored (redacted)."""
    store = stack.store
    assert store is not None
    run = store.get_run(outcome.run_id)
    assert run is not None and run.trigger_hash is not None
    texts = [repr(store.get_payload(run.trigger_hash))]
    for attempt in store.attempts(outcome.run_id):
        texts.append(repr(store.get_payload(attempt.input_hash)))
        if attempt.output_hash:
            texts.append(repr(store.get_payload(attempt.output_hash)))
    return "\n".join(texts)


def _assert_no_secret(data: bytes) -> None:
    for secret in SECRETS:
        for fragment in (secret, secret[-16:]):  # a partial leak counts too
            assert fragment.encode() not in data, f"{fragment!r} is stored"


def _assert_markers(stored: str) -> None:
    """Redaction replaces, never deletes: each secret left a marker saying why."""
    for marker in (
        "[redacted: Slack token]",
        "[redacted: bearer token]",
        "[redacted: key 'authorization']",
        "[redacted: key 'x-api-key']",
    ):
        assert marker in stored, f"no {marker} in the stored payloads"
    assert "SLACK_BOT_TOKEN=" in stored and "ENG-101" in stored  # the rest is intact
