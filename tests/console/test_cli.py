"""`steptrace console-link` and `steptrace console` from the command line, as a user runs
them (the console script in a subprocess)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from orchestrator.humanloop.console_link import LinkSigner
from tests.orchestrator.test_cli import assert_clear_failure, steptrace

SECRET = "s3cr3t-" * 8


def test_console_link_prints_a_link_the_console_honours(tmp_path: Path) -> None:
    env = {"STEPTRACE_CONSOLE_SECRET": SECRET, "STEPTRACE_CONSOLE_URL": "https://ops.example"}
    result = steptrace("console-link", "--user", "U0A2OJVXRPU", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith("https://ops.example/signin?token=")
    token = link.split("token=", 1)[1]
    assert LinkSigner(SecretStr(SECRET)).redeem(token).user == "U0A2OJVXRPU"


def test_console_and_its_links_refuse_to_work_without_a_secret(tmp_path: Path) -> None:
    link = steptrace("console-link", "--user", "U1", cwd=tmp_path)
    serve = steptrace("console", "--port", "0", cwd=tmp_path)
    short = steptrace("console", cwd=tmp_path, env={"STEPTRACE_CONSOLE_SECRET": "too-short"})
    for result in (link, serve, short):
        assert_clear_failure(result, "STEPTRACE_CONSOLE_SECRET must be set")
