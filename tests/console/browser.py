"""What the browser tests share: Debian's Chromium through Playwright, axe-core from npm,
and the console served for real on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright
from starlette.applications import Starlette

from orchestrator.console.server import http_server
from orchestrator.humanloop.bot_http import bind

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("STEPTRACE_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(os.environ.get("STEPTRACE_AXE_JS", REPO / ".ci/axe/node_modules/axe-core/axe.min.js"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO / "docs" / "console"

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() or shutil.which(str(CHROMIUM))),
    reason=f"{CHROMIUM} not found: install Debian's `chromium` package "
    "(apt-get install -y chromium; .ci/run does it)",
)
needs_axe = pytest.mark.skipif(
    not AXE_JS.exists(),
    reason=f"{AXE_JS} not found: install the npm package `axe-core` "
    "(npm install --prefix .ci/axe axe-core@4; .ci/run does it)",
)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """The app on a free port of 127.0.0.1 (uvicorn); yields its base URL."""
    server = http_server(app)
    sock = bind("127.0.0.1", 0)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = await page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    assert result["passes"], "axe-core checked nothing: is the page empty?"
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


async def screenshot(page: Page, name: str, part: Locator | None = None) -> None:
    """Keep a screenshot (of the top of the page, or of ``part``) for docs/console.md
    when STEPTRACE_CONSOLE_SCREENSHOTS is set."""
    if not os.environ.get("STEPTRACE_CONSOLE_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    if part is not None:
        await part.screenshot(path=path)
        return
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=path)
