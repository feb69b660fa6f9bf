"""The pipeline fixtures (a session Temporal dev server, a fresh stack per test) are the
orchestrator suite's."""

from tests.orchestrator.conftest import (  # noqa: F401
    capture_errors,
    make_stack,
    reference,
    temporal_address,
)
