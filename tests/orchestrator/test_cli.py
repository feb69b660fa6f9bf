"""``steptrace run`` with bad input: exit code 2, one clear message on stderr, no traceback.

Each case runs the real console script as a subprocess, as a user would. The message
must name the input (the file and line, or the argument) and the way out; none of these
cases gets as far as starting Temporal.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.orchestrator.conftest import PIPELINES
from tracer.store import TraceStore

STEPTRACE = Path(sys.executable).with_name("steptrace")
REFERENCE = PIPELINES / "linear-triage-sync.yaml"

MALFORMED = """\
name: broken
steps:
  - id: fetch_issue
    op: linear.get_issue
   args: {id: trigger.issue}
"""

UNKNOWN_OP = """\
name: typo
steps:
  - id: fetch_issue
    op: linear.get_issue
    args: {id: trigger.issue}
  - id: sync_monday
    op: monday.upsert
    args: {board: "'Triage'"}
"""


def steptrace(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean ``STEPTRACE_*`` environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    return subprocess.run(
        [str(STEPTRACE), *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_clear_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("steptrace: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in result.stderr, f"{text!r} not in {result.stderr!r}"


def test_malformed_yaml_names_the_file_line_and_column(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(MALFORMED)
    result = steptrace("run", str(spec), cwd=tmp_path)
    assert_clear_failure(result, f"{spec}: malformed YAML at line 5, column 4")


def test_unknown_op_names_the_line_and_the_known_ops(tmp_path: Path) -> None:
    spec = tmp_path / "typo.yaml"
    spec.write_text(UNKNOWN_OP)
    result = steptrace("run", str(spec), cwd=tmp_path)
    assert_clear_failure(
        result, f"{spec}:7: step `sync_monday`: unknown op 'monday.upsert'", "monday.upsert_item"
    )


def test_missing_spec_file_says_so(tmp_path: Path) -> None:
    result = steptrace("run", str(tmp_path / "nowhere.yaml"), cwd=tmp_path)
    assert_clear_failure(result, "nowhere.yaml", "cannot read the file: No such file")


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("{issue: ENG-101}", "--trigger is not JSON (Expecting property name"),
        ('{"issue": "ENG-101"', "--trigger is not JSON"),
        ('["ENG-101", "ENG-102"]', "--trigger must be a JSON object such as"),
        ('"ENG-101"', "--trigger must be a JSON object"),
    ],
)
def test_a_trigger_that_is_not_a_json_object_names_the_argument(
    tmp_path: Path, trigger: str, expected: str
) -> None:
    result = steptrace("run", str(REFERENCE), "--trigger", trigger, cwd=tmp_path)
    assert_clear_failure(result, expected, repr(trigger))


def test_an_unusable_store_location_names_the_database(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    url = f"sqlite:///{blocker / 'trace.db'}"
    result = steptrace(
        "run",
        str(REFERENCE),
        "--trigger",
        '{"issue": "ENG-101"}',
        cwd=tmp_path,
        env={"STEPTRACE_DATABASE_URL": url},
    )
    assert_clear_failure(result, f"trace store {url}", "writable location")


def test_reading_commands_report_a_bad_store_url(tmp_path: Path) -> None:
    result = steptrace("runs", cwd=tmp_path, env={"STEPTRACE_DATABASE_URL": "mysql://x@y/z"})
    assert_clear_failure(result, "unsupported database backend 'mysql'", "sqlite:///")


def test_run_against_a_locked_store_names_the_lock_and_the_way_out(
    tmp_path: Path, temporal_address: str
) -> None:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    TraceStore.open(url).close()
    holder = sqlite3.connect(tmp_path / "trace.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another tool keeps a write transaction open
    try:
        result = steptrace(
            "run",
            str(REFERENCE),
            "--trigger",
            '{"issue": "ENG-101"}',
            cwd=tmp_path,
            env={"STEPTRACE_DATABASE_URL": url, "STEPTRACE_TEMPORAL_ADDRESS": temporal_address},
        )
    finally:
        holder.rollback()
        holder.close()
    assert_clear_failure(result, f"trace store {url}", "locked", "close that transaction")


SEVERAL_PROBLEMS = """\
name: twice
steps:
  - id: fetch_issue
    op: linear.get_issue
    args: {id: trigger.issue}
  - id: fetch_issue
    op: linear.get_issue
    args: {idd: trigger.issue}
"""


def test_a_spec_with_several_problems_names_each_on_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(SEVERAL_PROBLEMS)
    result = steptrace("run", str(spec), cwd=tmp_path)
    assert_clear_failure(
        result,
        f"{spec}:6: duplicate step id 'fetch_issue'; ",
        f"{spec}:8: step `fetch_issue`: op `linear.get_issue` has no argument 'idd' (known: id)",
    )
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("linear_token = \n", "config file steptrace.toml is not valid TOML (Invalid value"),
        (None, "STEPTRACE_CONFIG='absent.toml' is not a file"),
    ],
)
def test_a_bad_config_file_is_one_line_before_anything_starts(
    tmp_path: Path, config: str | None, expected: str
) -> None:
    env = {}
    if config is None:
        env["STEPTRACE_CONFIG"] = "absent.toml"
    else:
        (tmp_path / "steptrace.toml").write_text(config)
    for command in (["run", str(REFERENCE)], ["doctor"], ["worker"]):
        result = steptrace(*command, cwd=tmp_path, env=env)
        assert_clear_failure(result, "configuration: ", expected)
        assert result.stderr.count("\n") == 1, result.stderr
