"""Taint: a value redacted once in a run is redacted wherever it reappears in that run.

A secret sits under a secret key in the trigger (``accessToken``); a step builds a Slack
text from it; the text has no secret key and the value has no recognisable format, so
neither key matching nor the detectors would see it there. Redaction therefore
remembers every value it replaced, per run, and replaces later copies of it — also
inside longer strings — by ``"[redacted: copy of <first reason>]"``.

The secrets live in this process's memory only (never in the store), in a bounded
registry of recent runs: :func:`run_taint` is what the trace interceptor and the run
recorder share. A step that runs on another worker process than the earlier steps of
its run starts with an empty taint for that run: it still gets key, path and detector
redaction, and the taint of its own input applies to its output.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["MIN_TAINT_LENGTH", "Taint", "forget_run", "run_taint"]

MIN_TAINT_LENGTH = 6
"""Shorter values are not remembered: redacting every later ``"abc"`` would hide data."""

_MAX_VALUES = 2_000
_MAX_RUNS = 4_096


class Taint:
    """The secrets of one run, with the reason each was first redacted for."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._regex: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.generation = 0
        """Grows whenever a new value is remembered (callers re-walk on a change)."""

    def __len__(self) -> int:
        return len(self._values)

    def remember(self, value: Any, reason: str) -> None:
        """Remember ``value`` (a string, a number, or every string inside a structure)."""
        for text in _texts(value):
            for piece in _pieces(text):
                self._add(piece, reason)

    def _add(self, text: str, reason: str) -> None:
        if len(text) < MIN_TAINT_LENGTH or text.startswith("[redacted:"):
            return
        with self._lock:
            if text in self._values or len(self._values) >= _MAX_VALUES:
                return
            self._values[text] = reason
            self._regex = None
            self.generation += 1

    def apply(self, text: str) -> tuple[str, list[str]]:
        """``text`` with every remembered value replaced; the reasons of the replacements."""
        if not self._values:
            return text, []
        regex, values = self._compiled()
        reasons: list[str] = []

        def replace(match: re.Match[str]) -> str:
            reason = f"copy of {values[match.group(0)]}"
            reasons.append(reason)
            return f"[redacted: {reason}]"

        return regex.sub(replace, text), reasons

    def _compiled(self) -> tuple[re.Pattern[str], dict[str, str]]:
        with self._lock:
            if self._regex is None:
                # Longest first, so a whole value wins over a piece of it.
                ordered = sorted(self._values, key=len, reverse=True)
                self._regex = re.compile("|".join(re.escape(v) for v in ordered))
            return self._regex, dict(self._values)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _texts(item)]
    return []


def _pieces(text: str) -> list[str]:
    """The whole value and its word-like parts that look like key material.

    ``"Bearer Qm4n…"`` reappears as ``Qm4n…`` alone; a plain word (``"something"``) of a
    password phrase is not remembered, since it would redact ordinary prose.
    """
    stripped = text.strip()
    parts = [p for p in re.split(r"[\s,;]+", stripped) if p != stripped]
    return [stripped, *(p for p in parts if len(p) >= 8 and not p.isalpha())]


_registry: OrderedDict[str, Taint] = OrderedDict()
_registry_lock = threading.Lock()


def run_taint(run_id: str) -> Taint:
    """The taint of ``run_id`` in this process (created empty; least recent runs dropped)."""
    with _registry_lock:
        taint = _registry.get(run_id)
        if taint is None:
            taint = _registry[run_id] = Taint()
            while len(_registry) > _MAX_RUNS:
                _registry.popitem(last=False)
        else:
            _registry.move_to_end(run_id)
        return taint


def forget_run(run_id: str) -> None:
    """Drop the secrets of ``run_id`` from memory."""
    with _registry_lock:
        _registry.pop(run_id, None)
