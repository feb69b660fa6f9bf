"""Run the four emulators on 127.0.0.1, in-process, for tests, the demo and the CLI.

The servers run on their own event loop in a background thread, so both synchronous
clients (``slack_sdk.WebClient``, ``pyairtable.Api``) and asynchronous ones can call
them from the test's thread or loop without deadlocking. Ports are chosen by the OS
(port 0) unless given.

::

    with Sandbox(seed=7, faults=faults) as sandbox:
        sandbox.urls["airtable"]   # "http://127.0.0.1:53121"
        sandbox.begin_run(3)       # faults with from_run: 3 now apply

``webhook_time_scale`` compresses the tools' webhook retry schedules
(:mod:`connectors.sandbox.redelivery`): ``0.001`` makes Linear's retry after 1 minute
come after 60 ms.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Protocol

import httpx
import uvicorn

from connectors.sandbox.app import Emulator, Journal, wrap
from connectors.sandbox.faults import SERVICES, Fault, FaultEngine, FaultSpecError, Service
from connectors.sandbox.redelivery import Redelivery
from connectors.sandbox.seed import SeedData, generate

# Where each tool's emulator lives; imported when the sandbox starts.
EMULATOR_FACTORIES: dict[Service, str] = {
    "linear": "connectors.linear.emulator:build_emulator",
    "airtable": "connectors.airtable.emulator:build_emulator",
    "monday": "connectors.monday.emulator:build_emulator",
    "slack": "connectors.slack.emulator:build_emulator",
}

# The path each tool's clients put after the host (the real APIs' roots).
API_ROOTS: dict[Service, str] = {"linear": "", "airtable": "", "monday": "", "slack": "/api/"}

STARTUP_TIMEOUT_SECONDS = 15.0


class EmulatorFactory(Protocol):
    def __call__(self, seed: SeedData, engine: FaultEngine, *, rate_limits: bool) -> Emulator: ...


class SandboxError(RuntimeError):
    """The sandbox could not start (a port in use, a fault naming what a tool lacks)."""


class Sandbox:
    """The four emulators, served on loopback until :meth:`stop`."""

    def __init__(
        self,
        seed: int = 7,
        faults: Iterable[Fault] = (),
        *,
        rate_limits: bool = False,
        host: str = "127.0.0.1",
        ports: Mapping[Service, int] | None = None,
        services: Iterable[Service] = SERVICES,
        webhook_time_scale: float = 1.0,
    ) -> None:
        self.seed = seed
        self.webhook_time_scale = webhook_time_scale
        self.data = generate(seed)
        self.engine = FaultEngine(faults, seed=seed)
        self.journal = Journal()
        self.host = host
        self.rate_limits = rate_limits
        self._ports = dict(ports or {})
        self._services = tuple(services)
        self.emulators: dict[Service, Emulator] = {}
        self.urls: dict[Service, str] = {}
        self._servers: list[uvicorn.Server] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Sandbox:
        """Start serving; returns once every emulator accepts connections."""
        for service in self._services:
            try:
                self.emulators[service] = _load_factory(service)(
                    self.data, self.engine, rate_limits=self.rate_limits
                )
            except FaultSpecError as exc:  # a fault naming what the seeded tool lacks
                raise SandboxError(str(exc)) from exc
        for redelivery in self.redeliveries():
            redelivery.time_scale = self.webhook_time_scale
        self._thread = threading.Thread(target=self._run, name="steptrace-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_SECONDS):
            self.stop()
            raise SandboxError(f"sandbox did not start within {STARTUP_TIMEOUT_SECONDS:g} s")
        if self._startup_error is not None:
            self.stop()
            raise SandboxError(f"sandbox failed to start: {self._startup_error}") from (
                self._startup_error
            )
        return self

    def stop(self) -> None:
        """Stop the servers and wait for the thread."""
        for redelivery in self.redeliveries():
            redelivery.close()  # no retry outlives the sandbox
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def redeliveries(self) -> list[Redelivery]:
        """The emulators' webhook senders (each posts and retries its tool's deliveries)."""
        found = (getattr(e, "redelivery", None) for e in self.emulators.values())
        return [r for r in found if isinstance(r, Redelivery)]

    def begin_run(self, index: int) -> None:
        """Run ``index`` (1-based) starts: faults with a matching ``from_run`` apply."""
        self.engine.begin_run(index)

    def reset(self) -> None:
        """Back to the start: seeded data, no faults, run 1, empty journal."""
        self.engine.clear()
        self.journal.clear()
        self.engine.begin_run(1)
        for emulator in self.emulators.values():
            emulator.reset()

    def add_faults(self, faults: Iterable[Fault]) -> None:
        self.engine.add(faults)

    def post_as_person(
        self, user_id: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Post ``text`` in Slack as seeded person ``user_id`` (see the Slack emulator)."""
        slack: Any = self.emulators["slack"]
        message: dict[str, Any] = slack.post_as_person(user_id, channel, text, thread_ts=thread_ts)
        return message

    def linear_issues(self, count: int) -> list[dict[str, Any]]:
        """``count`` Linear issues as the API shows them: the seeded ones first, then as many
        more as needed, created through the emulator's ``issueCreate`` (so any registered
        webhook hears of them). For load tests and benchmarks."""
        have = len(self.state("linear")["issues"])
        create = "mutation($i: IssueCreateInput!) { issueCreate(input: $i) { success } }"
        with httpx.Client(headers={"authorization": "load-test"}, timeout=30) as http:
            for n in range(have, count):
                issue = {"teamId": self.data.team_id, "title": f"Load issue {n}", "priority": n % 5}
                body = {"query": create, "variables": {"i": issue}}
                answer = http.post(self.urls["linear"] + "/graphql", json=body).json()
                if not (answer.get("data") or {}).get("issueCreate", {}).get("success"):
                    raise SandboxError(f"the Linear emulator refused issueCreate: {answer}")
        issues: list[dict[str, Any]] = self.state("linear")["issues"]
        return issues[:count]

    def state(self, service: Service) -> dict[str, Any]:
        """The stored objects of one emulator (what ``GET /_sandbox/state`` returns)."""
        return self.emulators[service].snapshot()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve_all())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._startup_error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve_all(self) -> None:
        tasks = []
        for service, emulator in self.emulators.items():
            sock = _bind(self.host, self._ports.get(service, 0))
            config = uvicorn.Config(
                wrap(emulator, self.engine, self.journal),
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
            server = uvicorn.Server(config)
            self._servers.append(server)
            port = sock.getsockname()[1]
            self.urls[service] = f"http://{self.host}:{port}{API_ROOTS[service]}"
            tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        while not all(server.started for server in self._servers):
            failed = [t for t in tasks if t.done()]
            if failed:
                await failed[0]  # re-raises the server's error
                raise SandboxError("an emulator server stopped during start-up")
            await asyncio.sleep(0.01)
        self._ready.set()
        await asyncio.gather(*tasks)


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


def _load_factory(service: Service) -> EmulatorFactory:
    module_name, _, attr = EMULATOR_FACTORIES[service].partition(":")
    factory: EmulatorFactory = getattr(importlib.import_module(module_name), attr)
    return factory
