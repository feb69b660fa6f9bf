"""Bad input to the CLI: one clear message, exit 2, no traceback, nothing echoed that the
person did not type; read-only commands never wait for a writer; terminal output cannot
be taken over by the data it shows."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.cli.trigger_input import MAX_TRIGGER_BYTES, TriggerError, read_trigger
from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import parse_pipeline
from tests.orchestrator.conftest import StackFactory
from tracer.store import NewRun, RunStatus, TraceStore, TraceStoreError

STEPTRACE = Path(sys.executable).with_name("steptrace")
REFERENCE = Path(__file__).resolve().parents[2] / "pipelines" / "linear-triage-sync.yaml"


def steptrace(
    *args: str | bytes, tmp_path: Path, stdin: bytes | None = None, url: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "STEPTRACE_DATABASE_URL": url or f"sqlite:///{tmp_path / 't.db'}"}
    return subprocess.run(
        [str(STEPTRACE), *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def clear_failure(done: subprocess.CompletedProcess[bytes], *expected: str) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, (done.returncode, err)
    assert err.startswith("steptrace: ") and "Traceback" not in err, err
    for text in expected:
        assert text in err, (text, err)
    return err


# -- specs ------------------------------------------------------------------------------


def test_a_non_utf8_spec_is_one_clear_error(tmp_path: Path) -> None:
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("name: café\nsteps: []\n".encode("latin-1"))
    clear_failure(steptrace("run", str(spec), tmp_path=tmp_path), "not UTF-8 text", "0xe9")


def test_a_file_that_is_no_spec_is_described_never_echoed(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$salt$Zq8vN3kLm2Pw7Rt5:19000:0:99999:7:::\nbin:*:19000::::::\n")
    err = clear_failure(
        steptrace("run", str(shadow), tmp_path=tmp_path), "does not look like a pipeline spec"
    )
    assert "root:" not in err and "Zq8vN3kLm2Pw7Rt5" not in err and "19000" not in err
    binary = tmp_path / "program"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    clear_failure(steptrace("run", str(binary), tmp_path=tmp_path), "not UTF-8 text")


# -- triggers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('{"issue": NaN}', "JSON has no NaN"),
        ('{"issue": Infinity}', "JSON has no Infinity"),
        ('{"n": -Infinity}', "JSON has no -Infinity"),
        ('{"issue": "\\ud800"}', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
    ],
)
def test_triggers_json_cannot_carry_are_refused(
    tmp_path: Path, trigger: str, expected: str
) -> None:
    clear_failure(
        steptrace("run", str(REFERENCE), "--trigger", trigger, tmp_path=tmp_path), expected
    )


def test_a_trigger_argument_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    done = steptrace("run", str(REFERENCE), "--trigger", b'{"issue": "\xff"}', tmp_path=tmp_path)
    clear_failure(done, "not valid UTF-8", "@FILE")


def test_large_triggers_from_a_file_or_stdin_hit_our_limit_not_temporals(
    tmp_path: Path,
) -> None:
    big = json.dumps({"issue": "ENG-101", "blob": "x" * (2 * MAX_TRIGGER_BYTES)}).encode()
    path = tmp_path / "big.json"
    path.write_bytes(big)
    for done in (
        steptrace("run", str(REFERENCE), "--trigger", f"@{path}", tmp_path=tmp_path),
        steptrace("run", str(REFERENCE), "--trigger", "-", tmp_path=tmp_path, stdin=big),
    ):
        err = clear_failure(done, "KiB, the most a trigger may be")
        assert "xxxx" not in err


def test_file_and_stdin_triggers_are_read() -> None:
    payload = {"issue": "ENG-101", "note": "x" * 500_000, "ok": "naïve ✓"}
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    assert read_trigger("-", io.BytesIO(raw)) == payload
    with pytest.raises(TriggerError, match="not UTF-8 text"):
        read_trigger("-", io.BytesIO(b'{"a": "\xff"}'))


# -- deterministic transform errors ------------------------------------------------------------


async def test_a_jmespath_runtime_error_fails_the_step_at_once(make_stack: StackFactory) -> None:
    spec = parse_pipeline(
        "name: bad-join\nsteps:\n"
        "  - id: shape\n    op: transform\n    map:\n"
        "      labels: \"join(', ', trigger.labels)\"\n",
        source="bad-join.yaml",
    )
    async with make_stack() as stack:
        outcome = await stack.run(spec, {"labels": None})
        attempts = _attempts(stack, outcome.run_id)

    assert outcome.status == "failed"
    [attempt] = attempts  # not retried: the same handoff fails the same way
    assert attempt.error is not None
    assert attempt.error.error_class == "TransformError"
    assert attempt.error.retryable is False and attempt.error.code == "expression_error"


def _attempts(stack: Stack, run_id: str) -> list:  # type: ignore[type-arg]
    assert stack.store is not None
    return stack.store.attempts(run_id)


# -- read-only commands ------------------------------------------------------------------------


def _store_with_a_run(url: str, failed_step: str = "notify_slack") -> None:
    with TraceStore.open(url) as store:
        store.start_run(NewRun(run_id="r-1", pipeline="sync", started_at=datetime.now(UTC)))
        store.finish_run("r-1", RunStatus.FAILED, failed_step)


def test_read_only_commands_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    url = f"sqlite:///{db}"
    _store_with_a_run(url)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a worker mid-commit holds the write lock
    try:
        for command in (["runs", "--json"], ["show", "r-1", "--json"]):
            done = steptrace(*command, tmp_path=tmp_path, url=url)
            assert done.returncode == 0, done.stderr
            json.loads(done.stdout)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_read_only_command_on_no_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'trace.db'}"
    clear_failure(steptrace("runs", tmp_path=tmp_path, url=url), "no trace store")
    assert not (tmp_path / "none").exists()


# -- terminal output -----------------------------------------------------------------------------


def test_control_and_bidi_characters_are_shown_escaped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    _store_with_a_run(url, failed_step="step\x1b]0;pwned\x07\u202egnp.exe")
    done = steptrace("runs", tmp_path=tmp_path, url=url)
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0, done.stderr
    assert "\x1b]" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b" in out and "\\u202e" in out


def test_a_read_only_postgresql_store_reads_and_refuses_writes(pg_url: str) -> None:
    _store_with_a_run(pg_url)
    with TraceStore.open(pg_url, read_only=True) as store:
        assert [r.run_id for r in store.list_runs()] == ["r-1"]
        with pytest.raises(TraceStoreError, match="read-only"):
            store.finish_run("r-1", RunStatus.SUCCEEDED, None)
