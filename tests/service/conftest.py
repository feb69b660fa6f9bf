"""The service tests share the session's Temporal dev server with the pipeline tests."""

from __future__ import annotations

from tests.orchestrator.conftest import temporal_address

__all__ = ["temporal_address"]
