"""Rewriting one benchmark's section of docs/benchmarks.md, leaving the others alone.

Each benchmark owns one ``## …`` section of the shared results file; several benchmarks
(and the engineers running them) write to it, so a write replaces exactly its own
section — from its heading to the next ``## `` heading — and keeps everything else.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DOCS", "read_section", "replace_section"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _bounds(lines: list[str], heading: str) -> tuple[int, int] | None:
    """The [start, end) line range of the section under ``heading``, if it is there."""
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def read_section(heading: str, docs: Path = DOCS) -> str:
    """The current text of the section under ``heading`` (empty if absent)."""
    if not docs.exists():
        return ""
    lines = docs.read_text(encoding="utf-8").splitlines()
    bounds = _bounds(lines, heading)
    return "" if bounds is None else "\n".join(lines[bounds[0] : bounds[1]])


def replace_section(heading: str, section: str, docs: Path = DOCS) -> None:
    """Replace the section under ``heading`` by ``section`` (which starts with that
    heading), or append it if the file has no such section yet."""
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    bounds = _bounds(lines, heading)
    if bounds is None:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        start, end = bounds
        kept_after = "\n".join(lines[end:])
        body = "\n".join(lines[:start]) + "\n" + section
        body += ("\n" + kept_after + "\n") if kept_after else ""
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(body.rstrip("\n") + "\n", encoding="utf-8")
