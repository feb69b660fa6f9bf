"""A real ``steptrace worker`` in a child process, for tests that kill workers.

A worker inside the test process cannot be killed the way a machine dies: its
``finally`` blocks run, its store connection closes cleanly. A child process that gets
``SIGKILL`` stops between any two instructions, which is the crash the capture and the
idempotent writes have to survive. The child is configured only through the
``STEPTRACE_*`` environment variables, exactly as an operator would configure it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config.settings import SANDBOX_TOKEN, TOOLS, Tool

READY_LINE = "steptrace worker: task queue"
READY_WITHIN_SECONDS = 60.0
EXIT_WITHIN_SECONDS = 20.0
STEPTRACE = Path(sys.executable).with_name("steptrace")


async def poll_until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float, every: float
) -> None:
    """Return once ``condition()`` holds; fail with ``TimeoutError`` after ``within`` s.

    For conditions another process or thread makes true (rows in a shared store, the
    sandbox's journal, a Temporal history), where there is no event to wait on.
    ``condition`` may be a plain or an async function.
    """
    async with asyncio.timeout(within):
        while True:
            held = condition()
            if held if isinstance(held, bool) else await held:
                return
            await asyncio.sleep(every)


def worker_env(
    *,
    temporal_address: str,
    database_url: str,
    task_queue: str,
    tool_urls: Mapping[Tool, str],
) -> dict[str, str]:
    """The environment of a worker that uses the given server, store, queue and tools."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    env.update(
        STEPTRACE_TEMPORAL_ADDRESS=temporal_address,
        STEPTRACE_DATABASE_URL=database_url,
        STEPTRACE_TASK_QUEUE=task_queue,
        PYTHONUNBUFFERED="1",
    )
    for tool in TOOLS:
        env[f"STEPTRACE_{tool.upper()}_URL"] = tool_urls[tool]
        env[f"STEPTRACE_{tool.upper()}_TOKEN"] = SANDBOX_TOKEN
    return env


@dataclass
class WorkerProcess:
    """One ``steptrace worker`` child; its stderr goes to ``log_path`` for the report."""

    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = field(default=None, init=False)

    async def start(self) -> WorkerProcess:
        """Start the worker and return once it says it is polling its task queue."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(STEPTRACE),
                "worker",
                env=self.env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(READY_WITHIN_SECONDS):
                await self._wait_for_ready_line(self.process.stdout)
        except TimeoutError:
            await self.kill()
            raise AssertionError(
                f"steptrace worker did not start within {READY_WITHIN_SECONDS:g} s; "
                f"its log:\n{self.log()}"
            ) from None
        return self

    async def _wait_for_ready_line(self, stdout: asyncio.StreamReader) -> None:
        while True:
            line = await stdout.readline()
            if not line:
                raise AssertionError(f"steptrace worker exited early; its log:\n{self.log()}")
            if line.decode(errors="replace").startswith(READY_LINE):
                return

    async def kill(self) -> None:
        """``SIGKILL``: no cleanup of any kind runs in the worker."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        """``SIGTERM``, the graceful stop; ``SIGKILL`` if it does not exit in time."""
        await self._end(signal.SIGTERM)

    async def _end(self, sig: signal.Signals) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(sig)
        try:
            async with asyncio.timeout(EXIT_WITHIN_SECONDS):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()

    def log(self) -> str:
        """What the worker wrote to stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
