"""Key matching across naming styles, taint across handoffs, markers that say why."""

from __future__ import annotations

import pytest

from tracer.payloads import RedactionPolicy, redact
from tracer.taint import Taint, run_taint


@pytest.mark.parametrize(
    "key",
    [
        "accessToken",
        "access_token",
        "access-token",
        "Access-Token",
        "ACCESS_TOKEN",
        "AccessToken",
        "X-Api-Key",
        "xApiKey",
        "clientSecret",
        "dbPassword",
        "AWS_SECRET_ACCESS_KEY",
        "Proxy-Authorization",
        "slackBotToken",
    ],
)
def test_secret_keys_match_in_every_naming_style(key: str) -> None:
    out, found = redact({key: "Vq3Jm8Rk2Wp6Xn1Ts4"})
    assert out[key].startswith("[redacted: key ")
    assert [r.path for r in found] == [key]


@pytest.mark.parametrize("key", ["token_type", "tokens", "keyColumn", "monkey", "passenger"])
def test_ordinary_keys_are_left_alone(key: str) -> None:
    assert redact({key: "Bearer"}) == ({key: "Bearer"}, [])


def test_a_keyed_value_is_redacted_where_it_reappears_in_later_handoffs() -> None:
    taint = Taint()
    redact({"headers": {"X-Auth-Token": "Nn4Tp7Wq2Rs9Kx"}}, taint=taint)
    out, found = redact({"text": "deploy with Nn4Tp7Wq2Rs9Kx today"}, taint=taint)
    assert out == {"text": "deploy with [redacted: copy of key 'x-auth-token'] today"}
    assert [r.reason for r in found] == ["copy of key 'x-auth-token'"]


def test_a_copy_earlier_in_the_same_payload_is_caught_too() -> None:
    taint = Taint()
    value = {"a_text": "token is s3ss10n-Wq2Rs9KxNn4", "sessionToken": "s3ss10n-Wq2Rs9KxNn4"}
    out, _ = redact(value, taint=taint)
    assert "s3ss10n-Wq2Rs9KxNn4" not in repr(out)
    assert out["sessionToken"] == "[redacted: key 'sessiontoken']"


def test_the_token_of_a_keyed_header_is_remembered_alone() -> None:
    taint = Taint()
    redact({"Authorization": "Basic-ish Qm4nR7tV1wX9zB3c"}, taint=taint)
    out, _ = redact({"log": "retried with Qm4nR7tV1wX9zB3c"}, taint=taint)
    assert "Qm4nR7tV1wX9zB3c" not in out["log"]


def test_short_and_plain_values_are_not_remembered() -> None:
    taint = Taint()
    redact({"password": "abc", "secret": "correct horse battery staple"}, taint=taint)
    out, _ = redact({"text": "abc: the horse is correct"}, taint=taint)
    assert out == {"text": "abc: the horse is correct"}


def test_taint_is_per_run() -> None:
    redact({"apiKey": "MzQ2NTc4OTAxMjM0NTY3"}, taint=run_taint("run-a"))
    assert redact({"t": "MzQ2NTc4OTAxMjM0NTY3"}, taint=run_taint("run-b"))[1] == []
    assert redact({"t": "MzQ2NTc4OTAxMjM0NTY3"}, taint=run_taint("run-a"))[1] != []


def test_personal_data_only_when_configured() -> None:
    text = {"t": "mail oncall.pager+ops@example.net or call +1 415-555-2671"}
    assert redact(text)[1] == []
    out, _ = redact(text, RedactionPolicy(pii=frozenset({"email", "phone"})))
    assert out == {"t": "mail [redacted: e-mail address] or call [redacted: phone number]"}
