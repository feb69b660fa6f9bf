"""Terminal output that data cannot take over.

Run ids, step names, error messages and payload values come from the tools and from
people; printed raw, an ``ESC`` sequence in an issue title can retitle the terminal,
move the cursor or hide lines, and a right-to-left override (U+202E) can make
``evil.sh`` read as ``hs.live``. :class:`SafeConsole` is rich's console with every such
character shown escaped (``\\x1b``, ``\\u202e``) in whatever it prints; rich's own
styling is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

__all__ = ["SafeConsole", "escape_controls"]

# C0 controls but tab and newline, DEL, C1 controls, and the invisible formatting and
# bidirectional controls of Unicode (Trojan Source, CVE-2021-42574).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes."""
    return _UNSAFE.sub(_escaped, text)


class SafeConsole(Console):
    """A rich console whose text segments never carry raw control characters."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (
            segment if segment.control else Segment(escape_controls(segment.text), segment.style)
            for segment in buffer
        )
        return super()._render_buffer(safe)
