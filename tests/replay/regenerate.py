"""Regenerate the recorded histories in ``histories/`` (``python -m tests.replay.regenerate``).

Each fixture is a run of the pipeline workflow *as it was at a commit before a patch*,
on a real Temporal dev server: the commit's tree is exported with ``git archive`` into a
temporary folder and :mod:`tests.replay.record` runs with that tree first on the path.
The file name says the commit and the run's end: ``<commit>-<scenario>.json``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from orchestrator.runtime.devserver import DevServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HISTORIES = HERE / "histories"

FIXTURE_COMMITS: dict[str, str] = {
    # The parent of both 70a1f2d (patch `record-schemas`) and 988e66b (`alert-groups`).
    "988a887": "before the record-schemas and alert-groups patches",
    # The parent of 2cb45f8 (patch `schemas-at-run-end`).
    "8aa3663": "before the schemas-at-run-end patch",
}
SCENARIOS = ("succeeded", "failed")


def export_tree(commit: str, into: Path) -> None:
    """The commit's files, without touching the repository's worktrees or index."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def record(address: str, tree: Path, scenario: str, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = HERE / "record.py"
    subprocess.run(
        [sys.executable, str(script), address, scenario, str(out)], check=True, cwd=tree, env=env
    )


async def regenerate() -> None:
    server = DevServer()
    await server.start()
    try:
        for commit, why in FIXTURE_COMMITS.items():
            with tempfile.TemporaryDirectory(prefix=f"steptrace-{commit}-") as tmp:
                export_tree(commit, Path(tmp))
                for scenario in SCENARIOS:
                    out = HISTORIES / f"{commit}-{scenario}.json"
                    record(server.address, Path(tmp), scenario, out)
                    print(f"{out.relative_to(REPO)}: {why}")
    finally:
        await server.stop()


if __name__ == "__main__":
    asyncio.run(regenerate())
