"""Sign-in, sessions, CSRF, headers and live refresh: no Temporal needed, a real store."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr

from orchestrator.console.app import console_app
from orchestrator.console.security import HEADERS, SESSION_COOKIE
from orchestrator.humanloop.console_link import (
    _LINK_SALT,
    ConsoleConfigError,
    LinkSigner,
    console_link,
    console_secret,
)
from tests.console.conftest import BASE, client_for, sign_in
from tracer.store import NewRun, RunStatus, TraceStore

PAGES = ["/runs", "/groups", "/pipelines", "/run/latest", "/pipeline/x"]


@pytest.mark.parametrize("path", PAGES)
async def test_without_a_session_a_page_sends_you_to_the_sign_in_page(
    empty_store: TraceStore, secret: SecretStr, path: str
) -> None:
    async with client_for(console_app(empty_store, secret=secret)) as client:
        answer = await client.get(path)
        signin = await client.get(answer.headers["location"])
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=")
    assert signin.status_code == 200
    assert "/steptrace console" in signin.text and "console-link" in signin.text


async def test_without_a_session_json_is_refused(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    async with client_for(console_app(empty_store, secret=secret)) as client:
        answer = await client.get("/runs.json")
    assert answer.status_code == 401
    assert "sign in" in answer.json()["error"]


async def test_a_link_opens_a_session_for_its_slack_user_once(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    link = LinkSigner(secret).link(BASE, "U0A2OJVXRPU")
    async with client_for(console_app(empty_store, secret=secret)) as client:
        first = await client.get(link)
        page = await client.get("/runs")
    second = LinkSigner(secret).link(BASE, "U0A2OJVXRPU")
    app = console_app(empty_store, secret=secret)
    async with client_for(app) as client, client_for(app) as thief:
        assert (await client.get(second)).status_code == 303
        again = await thief.get(second)
    assert first.status_code == 303 and SESSION_COOKIE in first.cookies
    assert page.status_code == 200 and "Signed in as <strong>U0A2OJVXRPU</strong>" in page.text
    assert again.status_code == 403 and "used already" in again.text
    assert SESSION_COOKIE not in again.cookies


async def test_a_forged_link_is_refused(empty_store: TraceStore, secret: SecretStr) -> None:
    forged = LinkSigner(SecretStr("x" * 64)).token("U0A2OJVXRPU")
    tampered = LinkSigner(secret).token("UNOBODY")[:-2] + "AA"
    async with client_for(console_app(empty_store, secret=secret)) as client:
        answers = [await client.get("/signin", params={"token": t}) for t in (forged, tampered)]
        after = await client.get("/runs")
    assert [a.status_code for a in answers] == [403, 403]
    assert all("signature does not match" in a.text for a in answers)
    assert after.status_code == 303  # still no session


class _AnHourAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 3600


async def test_an_expired_link_is_refused(empty_store: TraceStore, secret: SecretStr) -> None:
    old = URLSafeTimedSerializer(
        secret.get_secret_value(), salt=_LINK_SALT, signer=_AnHourAgo
    ).dumps({"u": "U0A2OJVXRPU", "n": "n1"})
    async with client_for(console_app(empty_store, secret=secret)) as client:
        answer = await client.get("/signin", params={"token": old})
        after = await client.get("/runs")
    assert answer.status_code == 403 and "expired" in answer.text
    assert after.status_code == 303


async def test_a_post_without_the_sessions_csrf_token_is_refused(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    async with client_for(console_app(empty_store, secret=secret)) as client:
        await sign_in(client, secret, "U0A2OJVXRPU")
        missing = await client.post("/act/approve/some-run", data={})
        wrong = await client.post("/act/approve/some-run", data={"csrf": "guess"})
    assert missing.status_code == 403 and "CSRF" in missing.text
    assert wrong.status_code == 403


async def test_every_answer_carries_the_secure_headers(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    async with client_for(console_app(empty_store, secret=secret, https=True)) as client:
        answers = [await client.get("/signin"), await client.get("/runs")]
        answers.append(await client.get(LinkSigner(secret).link(BASE, "U1")))
    for answer in answers:
        for name, value in HEADERS.items():
            assert answer.headers[name] == value, (answer.url, name)
        assert "max-age" in answer.headers["strict-transport-security"]
    cookie = answers[-1].headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE)
    assert all(flag in cookie for flag in ("httponly", "secure", "samesite=lax"))


async def test_sign_out_ends_the_session(empty_store: TraceStore, secret: SecretStr) -> None:
    async with client_for(console_app(empty_store, secret=secret)) as client:
        await sign_in(client, secret, "U1")
        page = await client.get("/runs")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        forged = await client.post("/signout", data={"csrf": "guess"})
        still = await client.get("/runs")
        out = await client.post("/signout", data={"csrf": csrf})
        after = await client.get("/runs")
    assert forged.status_code == 403 and still.status_code == 200
    assert out.status_code == 303 and after.status_code == 303


def test_the_console_refuses_to_start_without_a_long_secret() -> None:
    with pytest.raises(ConsoleConfigError, match="STEPTRACE_CONSOLE_SECRET"):
        console_secret({"STEPTRACE_CONSOLE_SECRET": "short"})
    link = console_link(
        {"STEPTRACE_CONSOLE_SECRET": "s" * 40, "STEPTRACE_CONSOLE_URL": "https://ops.example/"},
        "U1",
    )
    assert link.startswith("https://ops.example/signin?token=")


async def test_an_unknown_run_is_a_404_page_and_json(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    async with client_for(console_app(empty_store, secret=secret)) as client:
        await sign_in(client, secret, "U1")
        page = await client.get("/run/nope")
        data = await client.get("/run/nope.json")
    assert page.status_code == 404 and "steptrace runs" in page.text
    assert data.status_code == 404 and "no run 'nope'" in data.json()["error"]


async def test_runs_in_flight_refresh_themselves_and_finished_ones_do_not(
    empty_store: TraceStore, secret: SecretStr
) -> None:
    run = NewRun(run_id="wf-1/r1", pipeline="p", started_at=datetime.now(UTC))
    empty_store.start_run(run)
    async with client_for(console_app(empty_store, secret=secret)) as client:
        await sign_in(client, secret, "U1")
        running = await client.get("/runs")
        page = await client.get("/run/wf-1/r1")
        script = await client.get("/static/live.js")
        empty_store.finish_run(run.run_id, RunStatus.SUCCEEDED)
        done = await client.get("/runs")
    assert 'id="runs-live" data-live' in running.text and "/static/live.js" in running.text
    assert page.status_code == 200 and 'id="run-live" data-live' in page.text
    assert script.status_code == 200 and "data-live" in script.text
    assert "data-live" not in done.text and "/static/live.js" not in done.text
