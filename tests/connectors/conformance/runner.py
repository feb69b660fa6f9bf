"""Run the official Node clients' conformance scripts against a fresh sandbox.

Each ``<tool>.mjs`` script here drives one tool's emulator with that tool's official,
unmodified client (pinned in ``package.json``, installed by ``npm ci``) and prints one JSON
list of results: ``{"tool", "client", "check", "outcome", "detail"}`` where the outcome is
``ok``, ``fails`` (the client threw where the live API answers) or ``differs`` (the call
worked but the answer is not the live one).

``python -m tests.connectors.conformance.runner`` prints the failures table
(tool | official client | ok | fails | differs from live) and the failing checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.sandbox.server import Sandbox

HERE = Path(__file__).parent
SCRIPTS = ("linear", "monday", "slack", "airtable")
NODE_HINT = "node is not installed: `apt-get install -y nodejs npm` (Debian packages nodejs, npm)"
SCRIPT_TIMEOUT_SECONDS = 240


class ConformanceSetupError(RuntimeError):
    """The scripts cannot run: their packages are not installed, or one crashed."""


def node() -> str | None:
    """The ``node`` executable, if installed."""
    return shutil.which("node")


def run_script(tool: str) -> list[dict[str, Any]]:
    """Run ``<tool>.mjs`` against a fresh sandbox of all four tools; its results."""
    executable = node()
    if executable is None:
        raise ConformanceSetupError(NODE_HINT)
    if not (HERE / "node_modules").is_dir():
        raise ConformanceSetupError(
            f"the official clients are not installed: run `npm ci --prefix {HERE}`"
        )
    with Sandbox(seed=7) as sandbox:
        env = {
            **os.environ,
            "SANDBOX_AIRTABLE_BASE": sandbox.data.airtable_base_id,
            **{f"SANDBOX_{name.upper()}_URL": url for name, url in sandbox.urls.items()},
        }
        done = subprocess.run(
            [executable, f"{tool}.mjs"],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_SECONDS,
            check=False,
        )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise ConformanceSetupError(
            f"{tool}.mjs exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    results: list[dict[str, Any]] = json.loads(lines[-1])
    return results


def table(results: list[dict[str, Any]]) -> str:
    """The failures table, one row per official client."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for result in results:
        counts.setdefault((result["tool"], result["client"]), Counter())[result["outcome"]] += 1
    rows = [
        "| tool | official client | ok | fails | differs from live |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (tool, client), n in counts.items():
        rows.append(f"| {tool} | `{client}` | {n['ok']} | {n['fails']} | {n['differs']} |")
    return "\n".join(rows)


def main() -> int:
    results = [r for tool in SCRIPTS for r in run_script(tool)]
    print(table(results))
    for result in results:
        if result["outcome"] != "ok":
            print(f"- {result['tool']} {result['check']}: {result['outcome']}: {result['detail']}")
    return 0 if all(r["outcome"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
