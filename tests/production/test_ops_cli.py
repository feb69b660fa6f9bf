"""The production commands' edges: keys, the codec server's refusals, migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestrator.runtime.codec import Keyring

COMMAND = [sys.executable, "-m", "orchestrator.cli.app"]


def steptrace(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=clean | env, timeout=60
    )


def test_codec_key_prints_a_usable_key() -> None:
    done = steptrace("codec-key", "--id", "2026-12")
    assert done.returncode == 0
    ring = Keyring.parse(done.stdout, source="stdout")
    assert ring.active == "2026-12" and len(ring.keys["2026-12"]) == 32


def test_codec_server_refuses_to_start_without_keys_or_token() -> None:
    no_keys = steptrace("codec-server")
    assert no_keys.returncode == 2 and "STEPTRACE_CODEC_KEYS" in no_keys.stderr
    key = steptrace("codec-key").stdout.strip()
    no_token = steptrace("codec-server", STEPTRACE_CODEC_KEYS=key)
    assert no_token.returncode == 2 and "STEPTRACE_CODEC_AUTH_TOKEN" in no_token.stderr
    bad_key = steptrace("codec-server", STEPTRACE_CODEC_KEYS="k1=short")
    assert bad_key.returncode == 2 and "codec key 'k1'" in bad_key.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    done = steptrace("migrate", STEPTRACE_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "trace.db").exists() and "current schema" in done.stdout


def test_a_worker_in_production_mode_names_what_is_missing(tmp_path: Path) -> None:
    done = steptrace(
        "worker",
        STEPTRACE_EMBEDDED="0",
        STEPTRACE_DATABASE_URL=f"sqlite:///{tmp_path / 'trace.db'}",
    )
    assert done.returncode == 2
    assert "no endpoint for linear" in done.stderr and "STEPTRACE_EMBEDDED=0" in done.stderr
