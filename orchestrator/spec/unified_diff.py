"""Applying a unified diff to the text it was made for: a spec patch becomes a new spec.

Strict on purpose: a hunk whose context does not match the text is refused with the line
that differs, never applied loosely (the patched spec is a new pipeline version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class PatchApplyError(ValueError):
    """A unified diff that does not apply cleanly to the text it was made for."""


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass
class _Hunk:
    header: str
    old_start: int
    old_count: int
    new_count: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


def apply_unified_diff(text: str, patch: str) -> str:
    """``text`` with the unified diff ``patch`` applied, exactly: no fuzz, no offsets.

    Every hunk's context and removed lines must be found at the line the hunk names;
    otherwise :class:`PatchApplyError` says which hunk and which line differ. A patch
    with no hunk is refused too (it would change nothing, which is never what is meant).
    """
    hunks = _parse_hunks(patch)
    if not hunks:
        raise PatchApplyError("the patch has no hunk (no line starting with @@)")
    source = text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for number, hunk in enumerate(hunks, start=1):
        start = hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1
        if start < position:
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) overlaps or precedes the hunk before it"
            )
        if start + len(hunk.old) > len(source):
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) does not apply: it names lines "
                f"{start + 1}-{start + len(hunk.old)}, the text has {len(source)} lines"
            )
        _check_lines(number, hunk, source, start)
        out += source[position:start]
        out += hunk.new
        position = start + len(hunk.old)
    out += source[position:]
    return "".join(out)


def _check_lines(number: int, hunk: _Hunk, source: list[str], start: int) -> None:
    for offset, expected in enumerate(hunk.old):
        found = source[start + offset]
        if found != expected:
            raise PatchApplyError(
                f"hunk {number} ({hunk.header}) does not apply at line {start + offset + 1}: "
                f"the text has {_shown(found)}, the patch expects {_shown(expected)}"
            )


def _shown(line: str) -> str:
    return repr(line.rstrip("\r\n"))


def _parse_hunks(patch: str) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    lines = patch.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        match = _HUNK.match(lines[index])
        if match is None:
            index += 1
            continue
        hunk = _Hunk(
            header=match.group(0),
            old_start=int(match.group(1)),
            old_count=int(match.group(2) or "1"),
            new_count=int(match.group(4) or "1"),
        )
        index = _read_hunk(hunk, lines, index + 1)
        hunks.append(hunk)
    return hunks


def _read_hunk(hunk: _Hunk, lines: list[str], index: int) -> int:
    """Read ``hunk``'s body from ``lines[index:]``; returns the index after it."""
    previous: list[list[str]] = []  # the sides the previous line went to
    while len(hunk.old) < hunk.old_count or len(hunk.new) < hunk.new_count:
        if index >= len(lines):
            raise PatchApplyError(f"hunk {hunk.header} is cut short: the patch ends inside it")
        line = lines[index]
        tag, body = line[:1], line[1:]
        if line in ("\n", "\r\n"):  # a context line whose lone space was stripped
            tag, body = " ", line
        if tag == "\\":
            _drop_newline(previous)
        elif tag in (" ", "-", "+"):
            keep_old, keep_new = _sides(tag)
            previous = [side for side, keep in ((hunk.old, keep_old), (hunk.new, keep_new)) if keep]
            for side in previous:
                side.append(body)
        else:
            raise PatchApplyError(
                f"hunk {hunk.header}: line {index + 1} of the patch starts with {tag!r}, "
                "not ' ', '-' or '+' (the hunk's line counts do not match its body)"
            )
        index += 1
    if index < len(lines) and lines[index].startswith(_NO_NEWLINE):
        _drop_newline(previous)
        index += 1
    return index


def _sides(tag: str) -> tuple[bool, bool]:
    """Whether a line tagged ``tag`` belongs to the old text, and to the new one."""
    return tag != "+", tag != "-"


def _drop_newline(sides: list[list[str]]) -> None:
    for side in sides:
        if side:
            side[-1] = side[-1].rstrip("\n")


# --- planning a replay -----------------------------------------------------------------
