"""Production commands: ``codec-server``, ``codec-key``, ``migrate``, ``prune``.

Like every command they import what they need inside the function, so ``steptrace
--help`` stays fast.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated

import typer

from orchestrator.cli.common import fail, settings

DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w`` … as a timedelta; a clear error otherwise."""
    match = DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter(f"{text!r} is not a positive duration such as 30d, 12h, 90m or 2w")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def codec_key(
    key_id: Annotated[str, typer.Option("--id", help="The new key's id (rotate by id).")] = "k1",
) -> None:
    """Print a new AES-256 key as `id=base64`, for STEPTRACE_CODEC_KEYS (newest first)."""
    from orchestrator.runtime.codec_keys import new_key_entry

    print(new_key_entry(key_id))


def codec_server(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    ui_origin: Annotated[
        list[str] | None,
        typer.Option(help="Origin of the Temporal web UI allowed by CORS (repeatable)."),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve without the bearer-token check.")
    ] = False,
) -> None:
    """Serve Temporal's codec-server protocol so the web UI can show decoded payloads.

    Needs the codec keys (STEPTRACE_CODEC_KEYS or STEPTRACE_CODEC_KEYS_FILE) and
    STEPTRACE_CODEC_AUTH_TOKEN, the bearer token every request must carry (unless
    --no-auth, for a server behind an authenticating proxy).
    """
    import os

    import uvicorn

    from orchestrator.runtime.codec import CodecKeyError
    from orchestrator.runtime.connection import keyring
    from orchestrator.service.codec_server import AUTH_TOKEN_ENV, CodecServerConfig, codec_app

    configured = settings()
    try:
        keys = keyring(configured)
    except CodecKeyError as exc:
        fail(str(exc))
    if keys is None:
        fail("no codec keys: set STEPTRACE_CODEC_KEYS or STEPTRACE_CODEC_KEYS_FILE")
    token = os.environ.get(AUTH_TOKEN_ENV) or None
    if token is None and not no_auth:
        fail(f"{AUTH_TOKEN_ENV} is not set: every request must be authorized (or --no-auth)")
    origins = ui_origin or [configured.temporal_ui_url or "http://localhost:8233"]
    config = CodecServerConfig(keys, configured.namespace, origins, None if no_auth else token)
    print(f"steptrace codec server: http://{host}:{port} (CORS: {', '.join(origins)})")
    uvicorn.run(codec_app(config), host=host, port=port, log_level="warning")


def migrate() -> None:
    """Create or upgrade the trace store's schema (STEPTRACE_DATABASE_URL), then exit."""
    import os

    from tracer.store import TraceStore, TraceStoreError

    try:
        store = TraceStore.open(os.environ.get("STEPTRACE_DATABASE_URL") or None)
    except TraceStoreError as exc:
        fail(str(exc))
    print(f"steptrace migrate: {store.database} is at the current schema")
    store.close()


def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the runs to delete: 30d, 12h, 2w …")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Delete old runs, keeping those still needed (open, cited, failure exemplars,
    each version's last good run); the store stays consistent."""
    import dataclasses
    import os

    from tracer.store import TraceStore, TraceStoreError
    from tracer.store.retention import prune as prune_store

    age = parse_duration(older_than)
    try:
        with TraceStore.open(os.environ.get("STEPTRACE_DATABASE_URL") or None) as store:
            result = prune_store(store, age, dry_run=dry_run)
    except TraceStoreError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(dataclasses.asdict(result), default=str))
        return
    verb = "would delete" if dry_run else "deleted"
    print(
        f"steptrace prune: {verb} {result.runs_deleted} runs started before "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC ({result.attempts_deleted} attempts, "
        f"{result.payloads_deleted} payloads, {result.bytes_freed} bytes); kept "
        f"{result.runs_kept} ({', '.join(f'{k}: {v}' for k, v in result.kept_because.items())})"
    )
