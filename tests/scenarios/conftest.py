"""Fixtures for scenario tests: the session's Temporal dev server, shared with the
orchestrator tests, and a helper that writes a scenario file next to a test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.orchestrator.conftest import temporal_address

__all__ = ["temporal_address"]

ScenarioWriter = Callable[[str], Path]


@pytest.fixture
def write_scenario(tmp_path: Path) -> ScenarioWriter:
    """``write_scenario(text)`` saves ``text`` as ``tmp_path/scenario.yaml``."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
