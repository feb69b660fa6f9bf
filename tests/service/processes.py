"""``steptrace serve`` in a child process, configured only through its environment."""

from __future__ import annotations

import asyncio
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.orchestrator.processes import STEPTRACE

READY_LINE = "Press Ctrl+C to stop."
READY_WITHIN_SECONDS = 90.0
EXIT_WITHIN_SECONDS = 40.0


@dataclass
class ServeProcess:
    env: dict[str, str]
    log_path: Path
    args: tuple[str, ...] = ("serve", "--port", "0")
    process: asyncio.subprocess.Process | None = field(default=None, init=False)
    parts: dict[str, str] = field(default_factory=dict, init=False)
    _drain: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return self.parts["receiver"]

    async def start(self) -> ServeProcess:
        """Start and return once it prints where it listens (its receiver is ready)."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(STEPTRACE), *self.args, env=self.env, stdout=asyncio.subprocess.PIPE, stderr=log
            )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(READY_WITHIN_SECONDS):
                while True:
                    raw = await self.process.stdout.readline()
                    if not raw:
                        raise AssertionError(f"steptrace serve exited early:\n{self.log()}")
                    line = raw.decode(errors="replace").rstrip()
                    if line == READY_LINE:
                        self._drain = asyncio.create_task(self._copy_stdout_to_log())
                        return self
                    found = re.match(r"^  (\S.*?)\s{2,}(\S.*)$", line)
                    if found:
                        self.parts.setdefault(found[1], found[2])
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"steptrace serve did not start:\n{self.log()}") from None

    async def _copy_stdout_to_log(self) -> None:
        """Keep reading the child's stdout: a full pipe would block its writes (the
        Temporal core logs there), and with them the whole worker."""
        assert self.process is not None and self.process.stdout is not None
        with self.log_path.open("ab") as log:
            while chunk := await self.process.stdout.read(65536):
                log.write(chunk)
                log.flush()

    async def kill(self) -> None:
        await self._end(signal.SIGKILL)

    async def stop(self) -> int | None:
        """SIGTERM, the graceful stop; its exit code."""
        return await self._end(signal.SIGTERM)

    async def _end(self, sig: signal.Signals) -> int | None:
        process = self.process
        if process is None:
            return None
        if process.returncode is None:
            process.send_signal(sig)
            try:
                async with asyncio.timeout(EXIT_WITHIN_SECONDS):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._drain is not None:
            await self._drain
        return process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def write_hooked_spec(folder: Path, source: str, trigger: dict[str, Any]) -> str:
    """Copy ``pipelines/<source>`` into ``folder`` (created) started by ``trigger`` alone,
    with no schedule (nothing shared with other tests' Temporal Schedules); its name."""
    import yaml

    spec: dict[str, Any] = yaml.safe_load((PIPELINES / source).read_text())
    spec.pop("schedule", None)
    spec["triggers"] = [trigger]
    folder.mkdir()
    (folder / "hooked.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(spec["name"])
