"""Structured logs: one JSON object per line, carrying the run and step ids.

``STEPTRACE_LOG_FORMAT=json`` (the production image sets it) switches the root handler
to ``python-json-logger``; ``STEPTRACE_LOG_LEVEL`` sets the level. Inside a step, every
record gets ``run_id``, ``pipeline``, ``step_id``, ``op`` and ``attempt`` from
:data:`STEP_CONTEXT`, which the step observer sets for the step's duration.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

STEP_CONTEXT: ContextVar[Mapping[str, Any] | None] = ContextVar("steptrace_step", default=None)
FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class StepContextFilter(logging.Filter):
    """Copies the current step's ids onto each record (never overwriting an extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (STEP_CONTEXT.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def json_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(FIELDS, rename_fields={"levelname": "level"}))
    handler.addFilter(StepContextFilter())
    return handler


def configure_logging(env: Mapping[str, str] | None = None) -> bool:
    """JSON lines on stderr when ``STEPTRACE_LOG_FORMAT=json``; returns whether it did."""
    env = os.environ if env is None else env
    if env.get("STEPTRACE_LOG_FORMAT", "").strip().lower() != "json":
        return False
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(json_handler())
    root.setLevel(env.get("STEPTRACE_LOG_LEVEL", "INFO").upper())
    return True
