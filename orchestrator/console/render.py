"""Jinja2 rendering for the console: one environment, a few filters, the page frame.

Templates are autoescaped; the only markup built in Python is the payload tree
(:mod:`orchestrator.console.json_tree`), which escapes every value itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from orchestrator.console.json_tree import escape_json, render_tree
from orchestrator.console.security import CSRF_KEY

STATUS_WORDS = {
    "succeeded": "ok",
    "failed": "failed",
    "qc_failed": "QC failed",
    "running": "running",
    "rolled_back": "rolled back",
    "escalated": "escalated",
    "cancelled": "cancelled",
}


_TITLES = {400: "Bad request", 403: "Refused", 404: "Not found", 503: "Unavailable"}


class Renderer:
    def __init__(self, templates: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            short=short_id,
            when=when,
            ms=milliseconds,
            status_word=lambda s: STATUS_WORDS.get(str(s), str(s)),
            tree=render_tree,
            pretty=escape_json,
            compact=lambda v: json.dumps(v, default=str, ensure_ascii=False),
            url=lambda s: quote(str(s), safe="/"),
            q=lambda s: quote(str(s), safe=""),
        )

    def page(
        self,
        request: Request,
        user: str | None,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
    ) -> HTMLResponse:
        csrf = request.session.get(CSRF_KEY, "") if user else ""
        flash = request.session.pop("flash", None) if user else None
        html = self.env.get_template(template).render(
            user=user,
            csrf=csrf,
            flash=flash,
            path=request.url.path,
            query=str(request.url.query),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def error(
        self, request: Request, user: str | None, status: int, message: str, as_json: bool
    ) -> Response:
        if as_json:
            return JSONResponse({"error": message}, status_code=status)
        return self.page(
            request,
            user,
            "error.html",
            {"title": _TITLES.get(status, "Not done"), "message": message},
            status=status,
        )


def short_id(run_id: object) -> str:
    """A run id people can read: the workflow id and the first 8 characters of the
    Temporal run id."""
    text = str(run_id or "")
    workflow, _, temporal = text.rpartition("/")
    return f"{workflow}/{temporal[:8]}" if workflow and len(temporal) > 8 else text


def when(value: datetime | None) -> Markup:
    if value is None:
        return Markup("—")
    moment = value.astimezone(UTC)
    # both parts are digits and separators: nothing to escape
    return Markup(f'<time datetime="{moment.isoformat()}">{moment:%Y-%m-%d %H:%M:%S}</time>')


def milliseconds(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{int(value)} ms"
