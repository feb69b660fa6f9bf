"""What every command shares: options, the one way to fail, the console, the store,
the settings and running a coroutine.

Nothing heavy is imported at module level: each helper imports what it needs when
called, so a command loads only the parts of steptrace it uses.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from orchestrator.cli.terminal import SafeConsole
    from orchestrator.config.settings import Settings
    from tracer.store import TraceReader, TraceStore

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
SeedOption = Annotated[int, typer.Option(help="Seed of the sandbox data.")]
RunArgument = Annotated[str, typer.Argument(metavar="RUN", help="Run id, workflow id or latest.")]

# Failures a person can fix, reported as one line and exit 2 by :func:`run_async`.
# Named by module: a class is looked up only if its module is loaded already (an
# exception of a module never imported cannot have been raised), so catching them
# imports nothing.
_EXPECTED_FAILURES = (
    ("orchestrator.runtime.devserver", "DevServerError"),
    ("tracer.store.errors", "TraceStoreError"),
    ("orchestrator.runtime.codec_keys", "CodecKeyError"),
    ("orchestrator.runtime.connection", "ConnectionConfigError"),
    ("orchestrator.service.stack", "EmbeddedDisabledError"),
    ("orchestrator.service.pipelines", "PipelinesFolderError"),
)
_CONFIG_FAILURES = (
    ("orchestrator.config.settings", "ConfigError"),
    ("rubrics.judge", "JudgeConfigError"),
)


def fail(message: str) -> NoReturn:
    """One line on standard error, ``steptrace: …``, and exit 2."""
    from orchestrator.cli.terminal import escape_controls

    one_line = " ".join(message.split("\n"))
    print(f"steptrace: {escape_controls(one_line)}", file=sys.stderr)
    raise typer.Exit(code=2)


def fail_config(error: Exception) -> NoReturn:
    """A configuration error: ``configuration: <the key and the way out>``."""
    fail(f"configuration: {error}")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def console() -> SafeConsole:
    from orchestrator.cli.terminal import SafeConsole

    shown = SafeConsole()
    if not shown.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        shown = SafeConsole(width=max(shown.width, 132))
    return shown


def settings() -> Settings:
    """The configuration, or one line naming the bad key and exit 2."""
    from orchestrator.config.settings import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as exc:
        fail_config(exc)


def open_store(*, read_only: bool = False) -> TraceStore:
    """The store; ``read_only`` for commands that only read: never migrated nor locked."""
    import os

    from orchestrator.config.errors import ConfigError
    from orchestrator.config.redaction import redaction_from_env
    from tracer.store import TraceStore, TraceStoreError

    try:
        policy = redaction_from_env(os.environ)  # what a diagnosis or review stores
    except ConfigError as exc:
        fail_config(exc)
    try:
        return TraceStore.open(
            os.environ.get("STEPTRACE_DATABASE_URL") or None, read_only=read_only, policy=policy
        )
    except TraceStoreError as exc:
        fail(str(exc))


def open_reader() -> TraceReader:
    """The store for a command that only reads runs, attempts, payloads and diagnoses:
    read through the database driver alone (:mod:`tracer.store.reader`), so the command
    loads neither SQLAlchemy's ORM nor the store's tables."""
    import os

    from tracer.store.errors import TraceStoreError
    from tracer.store.reader import open_reader as open_trace_reader

    try:
        return open_trace_reader(os.environ.get("STEPTRACE_DATABASE_URL") or None)
    except TraceStoreError as exc:
        fail(str(exc))


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine``; a failure a person can fix is one line and exit 2."""
    import asyncio

    quiet_expected_failures()
    try:
        return asyncio.run(coroutine)
    except Exception as exc:
        if isinstance(exc, _loaded(_EXPECTED_FAILURES)):
            fail(str(exc))
        if isinstance(exc, _loaded(_CONFIG_FAILURES)):
            fail_config(exc)
        raise


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    return tuple(
        getattr(sys.modules[module], name) for module, name in names if module in sys.modules
    )


def quiet_expected_failures() -> None:
    """A failing step is an outcome steptrace records and shows, not a log-worthy event."""
    import logging

    for name in ("temporalio.activity", "temporalio.workflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


def configure_process() -> None:
    """A service process: JSON logs and OTLP export when the environment asks for them."""
    from orchestrator.observability.logs import configure_logging
    from orchestrator.observability.otel import configure_tracing

    configure_logging()
    try:
        configure_tracing()
    except RuntimeError as exc:
        fail(str(exc))
    # The SDK's provider flushes queued spans at exit (shutdown_on_exit).
