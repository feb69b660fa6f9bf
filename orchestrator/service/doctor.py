"""``steptrace doctor``: is every part where the configuration says, and usable?

One line per check, ``ok`` or ``failing`` with the fix. Tools: real or sandbox; for a
real tool, the least-privileged call that proves the credential (Linear ``viewer``,
Airtable ``whoami``, Monday ``me``, Slack ``auth.test``) and one that proves the schema
is readable. Then Temporal (connect and describe the namespace) and the trace store
(reachable, and its schema revision against the newest this steptrace knows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from orchestrator.config.settings import Settings, Tool, ToolEndpoint
from tracer.store.engine import default_url, safe_url
from tracer.store.migrate import current_revision, head_revision

Status = Literal["ok", "failing", "info"]
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


Probe = Callable[[httpx.AsyncClient, ToolEndpoint, Settings], Awaitable[tuple[str, str]]]


async def run_checks(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        for tool in ("linear", "airtable", "monday", "slack"):
            checks += await _tool_checks(http, tool, settings)
    checks.append(await _temporal(settings))
    checks.append(await asyncio.to_thread(_store, settings))
    return checks


async def _tool_checks(http: httpx.AsyncClient, tool: Tool, settings: Settings) -> list[Check]:
    name = tool.upper()
    end = settings.endpoints.get(tool)
    if end is None:
        return [
            Check(
                tool, "info", f"sandbox (no STEPTRACE_{name}_TOKEN)", "set it to use the real API"
            )
        ]
    where = f"configured: {end.base_url}"
    credential, schema = PROBES[tool]
    results = [Check(tool, "info", where)]
    for label, probe, fix in (
        ("credential", credential, f"check STEPTRACE_{name}_TOKEN (docs/configuration.md)"),
        ("schema", schema, f"grant the read scopes listed for {tool} in docs/configuration.md"),
    ):
        try:
            status, detail = await probe(http, end, settings)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            status, detail = "failing", f"{type(exc).__name__}: {exc}"
        results.append(Check(f"{tool} {label}", status, detail, fix if status != "ok" else ""))  # type: ignore[arg-type]
    return results


async def _graphql(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], query: str
) -> dict[str, Any]:
    response = await http.post(url, json={"query": query}, headers=headers)
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise ValueError(f"HTTP {response.status_code}: {str(body.get('errors', body))[:200]}")
    data: dict[str, Any] = body["data"]
    return data


def _linear_headers(end: ToolEndpoint) -> dict[str, str]:
    return {"authorization": end.token.get_secret_value()}  # API keys go without Bearer


async def _linear_viewer(
    http: httpx.AsyncClient, end: ToolEndpoint, _: Settings
) -> tuple[str, str]:
    url = end.base_url.rstrip("/") + "/graphql"
    data = await _graphql(http, url, _linear_headers(end), "{ viewer { id email } }")
    return "ok", f"viewer {data['viewer'].get('email') or data['viewer']['id']}"


async def _linear_schema(
    http: httpx.AsyncClient, end: ToolEndpoint, _: Settings
) -> tuple[str, str]:
    url = end.base_url.rstrip("/") + "/graphql"
    data = await _graphql(http, url, _linear_headers(end), "{ teams(first: 1) { nodes { key } } }")
    return "ok", f"{len(data['teams']['nodes'])} team(s) readable"


async def _airtable(path: str, http: httpx.AsyncClient, end: ToolEndpoint) -> dict[str, Any]:
    token = end.token.get_secret_value()
    response = await http.get(
        end.base_url.rstrip("/") + path, headers={"authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code}: {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


async def _airtable_whoami(
    http: httpx.AsyncClient, end: ToolEndpoint, _: Settings
) -> tuple[str, str]:
    body = await _airtable("/v0/meta/whoami", http, end)
    return "ok", f"user {body.get('id')} (scopes: {', '.join(body.get('scopes', [])) or 'n/a'})"


async def _airtable_schema(
    http: httpx.AsyncClient, end: ToolEndpoint, settings: Settings
) -> tuple[str, str]:
    body = await _airtable("/v0/meta/bases", http, end)
    names = [b.get("name") for b in body.get("bases", [])]
    if settings.airtable_base not in names and settings.airtable_base not in {
        b.get("id") for b in body.get("bases", [])
    }:
        return "failing", f"base {settings.airtable_base!r} not among {names}"
    return "ok", f"base {settings.airtable_base!r} readable"


def _monday_headers(end: ToolEndpoint) -> dict[str, str]:
    return {"authorization": end.token.get_secret_value(), "api-version": "2025-04"}


async def _monday_me(http: httpx.AsyncClient, end: ToolEndpoint, _: Settings) -> tuple[str, str]:
    url = end.base_url.rstrip("/") + "/v2"
    data = await _graphql(http, url, _monday_headers(end), "{ me { id email } }")
    return "ok", f"user {data['me'].get('email') or data['me']['id']}"


async def _monday_schema(
    http: httpx.AsyncClient, end: ToolEndpoint, s: Settings
) -> tuple[str, str]:
    url = end.base_url.rstrip("/") + "/v2"
    data = await _graphql(http, url, _monday_headers(end), "{ boards(limit: 50) { id name } }")
    names = [b["name"] for b in data["boards"]]
    if s.monday_board not in names and s.monday_board not in [b["id"] for b in data["boards"]]:
        return "failing", f"board {s.monday_board!r} not among the first {len(names)}"
    return "ok", f"board {s.monday_board!r} readable"


async def _slack(method: str, http: httpx.AsyncClient, end: ToolEndpoint) -> dict[str, Any]:
    base = end.base_url if end.base_url.endswith("/") else end.base_url + "/"
    token = end.token.get_secret_value()
    response = await http.post(base + method, headers={"authorization": f"Bearer {token}"})
    body: dict[str, Any] = response.json()
    if not body.get("ok"):
        raise ValueError(f"{method}: {body.get('error')}")
    return body


async def _slack_auth(http: httpx.AsyncClient, end: ToolEndpoint, _: Settings) -> tuple[str, str]:
    body = await _slack("auth.test", http, end)
    return "ok", f"bot {body.get('user')} in {body.get('team')}"


async def _slack_schema(http: httpx.AsyncClient, end: ToolEndpoint, _: Settings) -> tuple[str, str]:
    body = await _slack("conversations.list", http, end)
    return "ok", f"{len(body.get('channels', []))} channel(s) visible"


PROBES: dict[Tool, tuple[Probe, Probe]] = {
    "linear": (_linear_viewer, _linear_schema),
    "airtable": (_airtable_whoami, _airtable_schema),
    "monday": (_monday_me, _monday_schema),
    "slack": (_slack_auth, _slack_schema),
}


async def _temporal(settings: Settings) -> Check:
    if not settings.temporal_address:
        return Check("temporal", "info", "embedded dev server (no STEPTRACE_TEMPORAL_ADDRESS)")
    try:
        client = await asyncio.wait_for(
            Client.connect(settings.temporal_address, namespace=settings.namespace),
            TIMEOUT_SECONDS,
        )
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.namespace)
        )
    except Exception as exc:
        return Check(
            "temporal",
            "failing",
            f"{settings.temporal_address} namespace {settings.namespace}: {exc}",
            "check STEPTRACE_TEMPORAL_ADDRESS / STEPTRACE_NAMESPACE (and TLS / API key)",
        )
    return Check("temporal", "ok", f"{settings.temporal_address} namespace {settings.namespace}")


def _store(settings: Settings) -> Check:
    url = settings.database_url or default_url(Path(".steptrace"))
    try:
        engine = create_engine(url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        return Check("store", "failing", f"{safe_url(url)}: {exc}", "check STEPTRACE_DATABASE_URL")
    head = head_revision()
    if current == head:
        return Check("store", "ok", f"{safe_url(url)} at revision {head}")
    return Check(
        "store",
        "failing",
        f"{safe_url(url)} at revision {current or 'none'}, newest is {head}",
        "run any steptrace command that opens the store (it migrates), e.g. `steptrace runs`",
    )
