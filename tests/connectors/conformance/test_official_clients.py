"""The tools' official Node clients, unmodified, against the sandbox (see ``runner.py``).

Each test runs one tool's script against a fresh sandbox and asserts every check came
out as the live API answers. Without ``node`` the tests skip, naming the Debian packages;
CI installs them (``.ci/run``), so there they always run.
"""

from __future__ import annotations

import pytest

from tests.connectors.conformance.runner import NODE_HINT, SCRIPTS, node, run_script, table

# The fewest checks each script makes: a script that stops early fails, never passes.
MIN_CHECKS = {"linear": 21, "monday": 21, "slack": 15, "airtable": 14}

pytestmark = pytest.mark.skipif(node() is None, reason=NODE_HINT)


@pytest.mark.parametrize("tool", SCRIPTS)
def test_official_client_conforms(tool: str) -> None:
    results = run_script(tool)

    failing = [r for r in results if r["outcome"] != "ok"]
    assert not failing, (
        table(results)
        + "\n"
        + "\n".join(f"{r['check']}: {r['outcome']}: {r['detail']}" for r in failing)
    )
    assert len(results) >= MIN_CHECKS[tool]
