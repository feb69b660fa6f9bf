"""The hostile suite reuses the pipeline fixtures: a real Temporal dev server per session,
and per test a fresh sandbox, trace store and task queue."""

from __future__ import annotations

from tests.orchestrator.conftest import (  # noqa: F401  (fixtures, found by name)
    capture_errors,
    make_stack,
    reference,
    temporal_address,
)
