"""``steptrace sandbox`` as a user runs it: the real console script in a child process.

The command prints one JSON line of base URLs once every emulator accepts requests,
serves until SIGINT, and exits 0; ``--faults FILE`` loads a scenario file's fault list;
a bad fault file is refused with exit code 2 and a message that names the file and the
line, never a traceback. Every wait on the child is bounded, so a hung sandbox fails the
test instead of hanging it.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from connectors.sandbox.faults import SERVICES
from connectors.sandbox.seed import generate

STEPTRACE = Path(sys.executable).parent / "steptrace"
# Generous bounds: the first start imports every emulator; a healthy one is far quicker.
START_TIMEOUT_SECONDS = 60.0
EXIT_TIMEOUT_SECONDS = 20.0
SLACK_TOKEN = "xoxb-sandbox-cli-test"

SCENARIO = """\
name: slack-token-revoked
pipeline: pipelines/linear-triage-sync.yaml
seed: 7
runs: {issues: [ENG-101, ENG-102]}
faults:
  - service: slack
    kind: revoke_token
  - service: airtable
    kind: rename_field
    target: Priority
    to: Priority Level
    from_run: 2
expect:
  - {run: 1, status: failed, fault_class: auth}
"""


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines, read on a daemon thread so a reader can wait with a bound."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, name="sandbox-cli-stdout", daemon=True).start()
    return lines


@contextmanager
def running_sandbox(*args: str, cwd: Path) -> Iterator[tuple[subprocess.Popen[str], Any]]:
    """Start ``steptrace sandbox --json ARGS``; yield the process and its parsed URLs.

    The child is killed on the way out if the test left it running, so a failed
    assertion never leaves a server behind.
    """
    process = subprocess.Popen(
        [str(STEPTRACE), "sandbox", "--json", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        try:
            line = _lines(process.stdout).get(timeout=START_TIMEOUT_SECONDS)
        except queue.Empty:
            pytest.fail(f"steptrace sandbox printed no URLs within {START_TIMEOUT_SECONDS:g} s")
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=EXIT_TIMEOUT_SECONDS)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Interrupt the sandbox as Ctrl+C does; its exit code and what it wrote to stderr."""
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=EXIT_TIMEOUT_SECONDS)
    assert process.stderr is not None  # stdout belongs to the reader thread
    return code, process.stderr.read()


def control(url: str, route: str) -> str:
    """A control route's URL: at the server's root, even for Slack's ``…/api/`` base."""
    return str(httpx.URL(url).join(f"/_sandbox/{route}"))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a ``steptrace`` command that is expected to end by itself."""
    return subprocess.run(
        [str(STEPTRACE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )


def test_sandbox_prints_urls_serves_each_tool_and_stops_on_sigint(tmp_path: Path) -> None:
    seeded = generate(7)
    with running_sandbox("--seed", "7", cwd=tmp_path) as (process, urls):
        assert sorted(urls) == sorted(SERVICES)
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
        assert urls["slack"].endswith("/api/")  # where Slack's clients put the method name
        states = {tool: httpx.get(control(url, "state")).json() for tool, url in urls.items()}
        code, err = stop(process)

    assert code == 0
    assert "Traceback" not in err
    for tool, state in states.items():
        assert state["service"] == tool
        assert state["run"] == 1
    # --seed 7 serves seed 7's world.
    assert states["linear"]["issues"][0]["identifier"] == "ENG-101"
    assert states["airtable"]["bases"][0]["id"] == seeded.airtable_base_id
    assert states["monday"]["boards"][0]["id"] == seeded.monday_board_id
    channels = {c["name"]: c["id"] for c in states["slack"]["channels"]}
    assert channels == seeded.slack_channel_ids


def test_faults_from_a_scenario_file_take_effect(tmp_path: Path) -> None:
    scenario = tmp_path / "slack-token-revoked.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    auth = {"Authorization": f"Bearer {SLACK_TOKEN}"}
    with running_sandbox("--seed", "7", "--faults", str(scenario), cwd=tmp_path) as (
        process,
        urls,
    ):
        revoked = httpx.post(urls["slack"] + "auth.test", headers=auth)
        loaded = httpx.get(control(urls["linear"], "faults")).json()
        code, _ = stop(process)

    assert revoked.status_code == 200  # Slack reports auth failures in the envelope
    assert revoked.json() == {"ok": False, "error": "token_revoked"}
    assert [(f["service"], f["kind"], f["from_run"]) for f in loaded["faults"]] == [
        ("slack", "revoke_token", 1),
        ("airtable", "rename_field", 2),
    ]
    assert code == 0


def test_without_faults_slack_accepts_the_token(tmp_path: Path) -> None:
    with running_sandbox("--no-rate-limits", cwd=tmp_path) as (process, urls):
        answer = httpx.post(
            urls["slack"] + "auth.test", headers={"Authorization": f"Bearer {SLACK_TOKEN}"}
        )
        code, _ = stop(process)
    assert answer.json()["ok"] is True
    assert code == 0


BAD_FILES = {
    "unknown kind": (
        "faults:\n  - service: slack\n    kind: revoke_token\n  - service: airtable\n"
        "    kind: explode\n",
        ["fault #2 (line 4)", "unknown kind 'explode'", "known: http_error"],
    ),
    "missing field": (
        "- service: linear\n  kind: rate_limit\n- service: linear\n  kind: http_error\n",
        ["fault #2 (line 3)", "needs 'status'"],
    ),
    "malformed yaml": (
        "faults:\n  - service: slack\n    kind: [revoke_token\n",
        ["malformed YAML at line"],
    ),
    "channel the workspace lacks": (
        "faults:\n  - {service: slack, kind: drop_field, target: '#general'}\n",
        ["no channel '#general'", "channels: eng-oncall, incidents, ops-alerts, triage"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_fault_file_exits_2_naming_the_file_and_line(tmp_path: Path, case: str) -> None:
    text, expected = BAD_FILES[case]
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")

    result = run_cli("sandbox", "--json", "--faults", str(path), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # no URLs: nothing is served
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("steptrace: ")
    for fragment in expected:
        assert fragment in result.stderr
    if case != "channel the workspace lacks":  # that one is found by the emulator, not the file
        assert str(path) in result.stderr


def test_a_missing_fault_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    result = run_cli("sandbox", "--faults", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}: cannot read the fault file" in result.stderr
    assert "Traceback" not in result.stderr
