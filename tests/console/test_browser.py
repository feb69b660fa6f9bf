"""The console in a real headless Chromium, against the real stack and the sandbox.

The demo's failure (Airtable's `Priority` renamed): a tier-1 approver signs in with a
link, opens the failed run from the list, sees the onset marked on the timeline,
expands a payload, sees the handoff diff, approves the fix on the confirmation page and
watches the replay succeed on the run page (it refreshes itself). Every page visited
passes axe-core's WCAG 2.1 AA checks, stays under 300 KB and works from the keyboard.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect
from pydantic import SecretStr

from orchestrator.console.app import console_app
from orchestrator.humanloop.console_link import LinkSigner
from orchestrator.spec.pipeline import LoadedPipeline
from tests.console.browser import (
    axe_violations,
    chromium,
    needs_axe,
    needs_chromium,
    screenshot,
    serve,
)
from tests.console.conftest import slack_client
from tests.console.test_actions import tier_one_approver
from tests.console.test_pages import MAX_PAGE_BYTES, PRIORITY_RENAMED, good_then_failed
from tests.human.loop_fixtures import alert_for, end_escalation
from tests.orchestrator.conftest import StackFactory

WITHIN_MS = 60_000

pytestmark = [needs_chromium, needs_axe]


async def test_an_approver_finds_the_onset_and_approves_the_replay_in_a_browser(
    make_stack: StackFactory, reference: LoadedPipeline, secret: SecretStr
) -> None:
    approver = tier_one_approver(reference)
    audits: dict[str, list[dict[str, Any]]] = {}
    weights: dict[str, int] = {}
    async with make_stack(faults=[PRIORITY_RENAMED], escalate=True) as stack:
        assert stack.store is not None
        _, failed = await good_then_failed(stack, reference)
        await alert_for(stack, failed.run_id)
        app = console_app(
            stack.store,
            stack.client,
            secret=secret,
            temporal_ui="http://127.0.0.1:8233",  # a link only: the test never follows it
            slack=slack_client(stack),
        )
        try:
            async with serve(app) as base, chromium() as browser:
                context = await browser.new_context(bypass_csp=True)  # to inject axe-core
                page = await context.new_page()

                async def check(name: str) -> None:
                    weights[name] = len((await page.content()).encode("utf-8"))
                    audits[name] = await axe_violations(page)
                    await screenshot(page, name)

                await page.goto(LinkSigner(secret).link(base, approver))
                await expect(page.get_by_role("heading", name="Runs")).to_be_visible()
                await check("runs")
                await page.keyboard.press("Tab")
                first = await page.evaluate("() => document.activeElement.textContent")
                assert first == "Skip to content"

                await page.get_by_role("link", name=_short(failed.run_id)).click()
                onset = page.locator(".step.is-onset")
                await expect(onset).to_contain_text("onset: the failure started here")
                await expect(onset).to_contain_text("upsert_airtable")
                await expect(page.locator(".diagnosis")).to_contain_text("Priority Level")

                payload = onset.locator("details.payload").first
                await payload.locator(":scope > summary").click()
                await expect(payload.locator(".tree")).to_be_visible()
                diff = onset.locator("details.diff")
                await expect(diff.locator("table")).to_be_visible()
                await expect(diff).to_contain_text("Priority")
                await _keyboard_opens_a_payload(page)
                await check("run")
                await screenshot(page, "run-onset", onset)

                await page.get_by_role("link", name="Approve fix & replay…").click()
                await expect(page.get_by_role("heading", level=1)).to_contain_text("Approve")
                await expect(page.locator("pre.udiff")).to_contain_text("Priority Level")
                await check("confirm")

                await page.get_by_role("button", name="Approve the fix and replay").click()
                await expect(page.locator("#run-live")).to_contain_text(
                    "replay from `upsert_airtable` succeeded", timeout=WITHIN_MS
                )
                await expect(page.locator(".thread")).to_contain_text("approved the fix")
                await check("run-after-replay")
                await screenshot(page, "run-after-replay", page.locator("#run-live"))

                await page.get_by_role("link", name="Pipelines").click()
                await page.get_by_role("link", name=reference.spec.name).click()
                await check("pipeline")
                await page.get_by_role("link", name="Failure groups").click()
                await check("groups")
                await context.close()
        finally:
            await end_escalation(stack, failed.run_id)
        audit = stack.store.human_actions(failed.run_id)

    assert [(a.slack_user_id, a.action, a.allowed) for a in audit] == [(approver, "approve", True)]
    assert {name: v for name, v in audits.items() if v} == {}
    assert all(size <= MAX_PAGE_BYTES for size in weights.values()), weights


async def _keyboard_opens_a_payload(page: Page) -> None:
    """Enter on a focused summary opens its payload."""
    summary = page.locator(".timeline > li:first-child details.payload > summary").first
    await summary.focus()
    await page.keyboard.press("Enter")
    opened = await summary.evaluate("node => node.parentElement.open")
    assert opened


def _short(run_id: str) -> str:
    workflow, _, temporal = run_id.rpartition("/")
    return f"{workflow}/{temporal[:8]}"
