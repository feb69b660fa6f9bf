"""The sandbox every connector suite uses: one per test module, reset before each test.

A tool's suite names its tool with a module-scoped ``service`` fixture in its own
conftest; starting an emulator costs a few hundred ms, resetting it almost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.sandbox.faults import Service
from connectors.sandbox.server import Sandbox


@pytest.fixture(scope="module")
def running_sandbox(service: Service) -> Iterator[Sandbox]:
    with Sandbox(seed=7, services=[service]) as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    """The module's sandbox, back to the seeded world, no faults and run 1: nothing leaks."""
    running_sandbox.reset()
    return running_sandbox
