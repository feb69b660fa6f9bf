"""No secret kept: 40 kinds planted through real pipeline runs, none found afterwards.

Secrets arrive three ways: in tool data (a Linear description where someone pasted a
config dump, planted with a ``corrupt_value`` fault), in the trigger's free text, and in
the trigger under secret keys in every naming style (camelCase, snake_case, kebab-case,
Header-Case). A transform step builds a Slack text from all of them and the run posts it:
the keyed values reappear there verbatim, without their keys, which only taint catches.
A second run posts to a channel that does not exist, so its failure, its error message
and its diagnosis carry the same handoffs.

Then every place a secret could surface is searched: every byte of the store (payloads
decompressed), the CLI's ``--json`` output of ``runs``/``show``/``why``/``diff``/``qc``,
the bot's answers over real signed HTTP, and every log record and line printed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox.faults import Fault
from orchestrator.config.settings import Settings, redaction_from_env
from orchestrator.service.stack import StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline, parse_pipeline
from tests.databases import all_database_text
from tests.hostile.planted import KEYED, every_planted, free_text
from tests.human.loop_fixtures import ephemeral_for, messages, serve_bot

STEPTRACE = Path(sys.executable).with_name("steptrace")
ADA = "U0A2OJVXRPU"  # an ops approver of the seeded workspace (seed 7)

SPEC = """
name: secrets-probe
steps:
  - id: fetch_issue
    op: linear.get_issue
    args:
      id: trigger.issue
  - id: compose
    op: transform
    map:
      text: >-
        join(' ', ['Ticket', fetch_issue.identifier, 'keys:', {keys}, 'note:', trigger.note,
        'description:', fetch_issue.description])
      channel: trigger.channel
  - id: notify_slack
    op: slack.post_message
    args:
      channel: compose.channel
      text: compose.text
"""


def _spec() -> LoadedPipeline:
    keys = ", ".join(f'trigger.request."{key}"' for key in KEYED)
    return parse_pipeline(SPEC.format(keys=keys), source="secrets-probe.yaml")


def _trigger(channel: str) -> dict[str, Any]:
    return {
        "issue": "ENG-101",
        "channel": channel,
        "note": free_text(),
        "request": {key: planted.secret for key, planted in KEYED.items()},
    }


async def test_forty_kinds_of_secret_are_found_nowhere(
    temporal_address: str,
    tmp_path: Path,
    capture_errors: list[BaseException],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    planted = every_planted()
    assert len({p.kind for p in planted}) >= 30
    # INFO, not DEBUG: temporalio's DEBUG records dump activity results as its history
    # holds them (the payload codec's concern, not the trace store's).
    caplog.set_level(logging.INFO)
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    settings = Settings(
        temporal_address=temporal_address,
        redaction=redaction_from_env({"STEPTRACE_REDACT_PII": "email,phone"}),
    )
    options = StackOptions(
        faults=(
            Fault(service="linear", kind="corrupt_value", target="description", value=free_text()),
        ),
        database_url=url,
        on_capture_error=capture_errors.append,
    )
    pipeline = _spec()
    async with open_stack(options, settings) as stack:
        posted = await stack.run(pipeline, _trigger("triage"))
        failed = await stack.run(pipeline, _trigger("no-such-channel"))
        posted_messages = messages(stack, "triage")
        _assert_secrets_travelled(posted_messages, posted.status)
        channel = str(posted_messages[-1]["channel"])
        assert failed.status == "failed", failed.error
        async with serve_bot(stack) as slack:
            for text in (f"why {failed.run_id}", "runs", f"why {posted.run_id}"):
                await slack.command(text, ADA, channel)
            answers = await ephemeral_for(stack, ADA, count=3)
        stored_markers = all_database_text(url)

    cli = _cli_outputs(url, posted.run_id, failed.run_id)
    printed = capfd.readouterr()
    places = {
        "store": stored_markers,
        "cli --json": "\n".join(cli).encode(),
        "bot answers": "\n".join(answers).encode(),
        "logs": caplog.text.encode(),
        "printed": (printed.out + printed.err).encode(),
    }
    found = [
        f"{p.kind} in {place}"
        for p in planted
        for place, data in places.items()
        for fragment in p.fragments()
        if fragment.encode() in data
    ]
    assert found == []
    _assert_markers_say_why(stored_markers)
    assert any("failed" in answer for answer in answers), answers


def _assert_secrets_travelled(posted: list[dict[str, Any]], status: str) -> None:
    """The secrets really went through: the Slack message (the tool's copy) has them all."""
    assert status == "succeeded"
    [message] = posted[-1:]
    for planted in every_planted():
        assert planted.secret in message["text"], planted.kind


def _assert_markers_say_why(stored: bytes) -> None:
    """Redaction replaces, never deletes: each route left a marker that says why."""
    for marker in (
        "[redacted: key 'accesstoken']",
        "[redacted: key 'x-auth-token']",
        "[redacted: copy of key 'db_password']",
        "[redacted: Stripe secret key]",
        "[redacted: e-mail address]",
        "[redacted: phone number]",
    ):
        assert marker.encode() in stored, marker
    assert b"Ticket ENG-101 keys:" in stored  # the rest of the Slack text is intact


def _cli_outputs(url: str, posted: str, failed: str) -> list[str]:
    env = {**os.environ, "STEPTRACE_DATABASE_URL": url}
    commands = [
        ["runs"],
        ["show", posted],
        ["show", failed],
        ["why", failed],
        ["diff", failed, "compose", "--against", posted],
        ["qc", posted],
    ]
    outputs = []
    for command in commands:
        done = subprocess.run(
            [str(STEPTRACE), *command, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), (command, done.stderr)
        json.loads(done.stdout)  # one JSON value, the whole output
        outputs += [done.stdout, done.stderr]
    return outputs


def test_every_planted_kind_is_detected_in_free_text() -> None:
    """The unit view of the same corpus: each kind alone in a line of prose."""
    from tracer.payloads import redact

    policy = redaction_from_env({"STEPTRACE_REDACT_PII": "email,phone"})
    for planted in every_planted():
        if planted in KEYED.values():
            continue
        out, found = redact({"d": f"see: {planted.line()} (end)"}, policy)
        assert found, planted.kind
        assert all(f not in out["d"] for f in planted.fragments()), (planted.kind, out)
