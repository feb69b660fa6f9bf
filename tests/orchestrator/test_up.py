"""`steptrace up`: everything embedded, with the web UI, until interrupted."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import httpx

STEPTRACE = Path(sys.executable).with_name("steptrace")
READY_LINE = "Press Ctrl+C to stop."


async def test_up_prints_where_each_part_listens_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}"}
    env.pop("STEPTRACE_TEMPORAL_ADDRESS", None)
    process = await asyncio.create_subprocess_exec(
        str(STEPTRACE),
        "up",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines = await asyncio.wait_for(_lines_until(process.stdout, READY_LINE), timeout=120)
        listening = dict(_parts(lines))
        assert "(embedded dev server)" in listening["temporal"]
        assert listening["store"] == f"sqlite:///{tmp_path / 'trace.db'}"
        async with httpx.AsyncClient(timeout=10) as http:
            ui = await http.get(listening["web UI"])
            assert ui.status_code == 200
            assert listening["airtable"].endswith(" (sandbox)")
            airtable = listening["airtable"].removesuffix(" (sandbox)")
            state = await http.get(airtable + "/_sandbox/state")
            assert state.json()["service"] == "airtable"
            assert listening["task queue"] == "steptrace"
            ready = await http.get(listening["receiver"] + "/readyz")
            assert ready.json()["ready"] is True
            # `steptrace run` finds the service through this file.
            service = json.loads((tmp_path / ".steptrace" / "service.json").read_text())
            assert service["receiver_url"] == listening["receiver"]
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), timeout=60)
    stderr = await process.stderr.read() if process.stderr else b""
    assert code == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert not (tmp_path / ".steptrace" / "service.json").exists(), "a clean exit removes it"


async def _lines_until(stream: asyncio.StreamReader, last: str) -> list[str]:
    lines: list[str] = []
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError(f"steptrace up ended before printing {last!r}: {lines}")
        line = raw.decode().rstrip()
        lines.append(line)
        if line == last:
            return lines


def _parts(lines: list[str]) -> list[tuple[str, str]]:
    """``  web UI      http://…`` → ("web UI", "http://…"): label, two or more spaces, value."""
    found = (re.match(r"^  (\S.*?)\s{2,}(\S.*)$", line) for line in lines)
    return [(match[1], match[2]) for match in found if match]
