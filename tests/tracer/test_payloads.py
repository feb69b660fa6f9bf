"""Canonical JSON, redaction, hashing and compression of handoff payloads."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from tracer.payloads import (
    EncodedPayload,
    PayloadError,
    Redaction,
    RedactionPolicy,
    canonical_json,
    decode,
    encode,
    json_size_at_most,
    redact,
    redact_text,
    to_json_data,
)

# Fake secrets in the real formats; none of them was ever valid.
SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789"
LINEAR = "lin_api_0123456789abcdefABCDEF0123456789abcdefAB"
AIRTABLE_PAT = "patAbCdEf0123456.0123456789abcdef0123456789abcdef0123456789abcdef"
AIRTABLE_KEY = "keyAbC123dEf456gH"
GITHUB = "ghp_0123456789abcdefABCDEF0123456789abcd"
AWS = "AKIAIOSFODNN7EXAMPLE"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
NO_SCAN = RedactionPolicy(keys=frozenset(), key_suffixes=(), scan_text=False)


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


# ---------------------------------------------------------------- canonical JSON, hashing


@given(json_values)
def test_encode_decode_round_trips_plain_json(value: Any) -> None:
    assert decode(encode(value, NO_SCAN).data) == value


@given(json_values)
def test_hash_ignores_key_order(value: Any) -> None:
    assert encode(value, NO_SCAN).hash == encode(_reordered(value), NO_SCAN).hash


@given(json_values)
def test_canonical_bytes_parse_back_and_are_compact(value: Any) -> None:
    raw = canonical_json(value)
    assert json.loads(raw) == value
    assert (
        raw == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


def test_different_values_hash_differently() -> None:
    assert encode({"a": 1}).hash != encode({"a": "1"}).hash


def test_pydantic_models_are_dumped_in_json_mode() -> None:
    class Issue(BaseModel):
        identifier: str
        due: date

    encoded = encode({"issue": Issue(identifier="ENG-1", due=date(2026, 1, 2))})
    assert decode(encoded.data) == {"issue": {"identifier": "ENG-1", "due": "2026-01-02"}}
    assert encoded.raw_size == len(canonical_json(decode(encoded.data)))


def test_tuples_become_lists() -> None:
    assert decode(encode({"a": (1, 2)}).data) == {"a": [1, 2]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected_with_the_path(bad: float) -> None:
    with pytest.raises(PayloadError, match=r"path 'items\.1\.score'.*JSON cannot represent"):
        encode({"items": [{}, {"score": bad}]})


def test_unserialisable_value_names_type_and_path() -> None:
    with pytest.raises(PayloadError) as info:
        encode({"run": {"when": date(2026, 1, 1)}})
    assert "datetime.date" in str(info.value)
    assert "path 'run.when'" in str(info.value)
    assert info.value.path == "run.when"


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(PayloadError, match="key 1 at path 'a' is a int"):
        encode({"a": {1: "x"}})


def test_lone_surrogate_is_a_clear_error() -> None:
    with pytest.raises(PayloadError, match="not valid Unicode"):
        encode({"a": "\ud800"})


def test_corrupt_stored_bytes_are_a_clear_error() -> None:
    with pytest.raises(PayloadError, match="not valid zstandard"):
        decode(b"not zstd")


def test_ten_megabyte_payload_round_trips_and_compresses(
    big_value: dict[str, Any], big_payload: EncodedPayload
) -> None:
    assert big_payload.raw_size > 10_000_000
    assert big_payload.stored_size < big_payload.raw_size * 0.7
    assert decode(big_payload.data) == big_value


# ---------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (SLACK, "Slack token"),
        ("xoxp-2222222222-3333333333-abcdef", "Slack token"),
        (SLACK_APP, "Slack app token"),
        (LINEAR, "Linear API key"),
        (AIRTABLE_PAT, "Airtable token"),
        (AIRTABLE_KEY, "Airtable API key"),
        (GITHUB, "GitHub token"),
        (AWS, "AWS access key id"),
        (JWT, "JWT"),
    ],
)
def test_token_inside_text_is_replaced_by_a_marker(secret: str, reason: str) -> None:
    text = f"Steps to reproduce: export TOKEN; curl with {secret} then it fails.\nThanks!"
    value, found = redact({"issue": {"description": text}})
    redacted = value["issue"]["description"]
    assert secret not in redacted
    assert redacted == text.replace(secret, f"[redacted: {reason}]")
    assert found == [Redaction(path="issue.description", reason=reason)]


def test_bearer_header_value_in_text() -> None:
    text, reasons = redact_text("sent Authorization: Bearer abcDEF123456ghiJKL789 and got 401")
    assert text == "sent Authorization: Bearer [redacted: bearer token] and got 401"
    assert reasons == ["bearer token"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "login password=hunter22 failed",
            "login password=[redacted: password after 'password='] failed",
        ),
        (
            "callback?token=Zq8mK2pLx9vR4tYw&x=1",
            "callback?token=[redacted: high-entropy value after a secret name]&x=1",
        ),
        ("postgresql://app:s3cr3t@db/prod", "postgresql://app:[redacted: password in URL]@db/prod"),
    ],
)
def test_generic_secrets_in_text(text: str, expected: str) -> None:
    assert redact_text(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "The keyboard shortcut broke again",
        "token=aaaaaaaaaaaaaaaa is a placeholder",
        "a bearer of bad news",
        "see https://linear.app/acme/issue/ENG-101 for context",
        "lin_api is the prefix of Linear keys",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == (text, [])


def test_secret_keys_are_replaced_case_insensitively_never_deleted() -> None:
    value: dict[str, Any] = {
        "headers": {"Authorization": "Bearer x", "X-Api-Key": "abc", "Accept": "json"},
        "slack_bot_token": "whatever",
        "password": None,
        "nested": [{"Client_Secret": {"a": 1}}],
    }
    out, found = redact(value)
    assert out == {
        "headers": {
            "Authorization": "[redacted: key 'authorization']",
            "X-Api-Key": "[redacted: key 'x-api-key']",
            "Accept": "json",
        },
        "slack_bot_token": "[redacted: key 'slack_bot_token']",
        "password": None,  # nothing to hide: kept as is
        "nested": [{"Client_Secret": "[redacted: key 'client_secret']"}],
    }
    assert {r.path for r in found} == {
        "headers.Authorization",
        "headers.X-Api-Key",
        "slack_bot_token",
        "nested.0.Client_Secret",
    }
    assert value["headers"]["Authorization"] == "Bearer x"  # input untouched


def test_configured_paths_with_wildcards() -> None:
    policy = RedactionPolicy(paths=("trigger.headers.x-custom", "rows.*.ssn"))
    value = {
        "trigger": {"headers": {"x-custom": "v", "other": "ok"}},
        "rows": [{"ssn": "123-45-6789", "name": "A"}, {"ssn": "987-65-4321"}],
    }
    out, found = redact(value, policy)
    assert out["trigger"]["headers"] == {
        "x-custom": "[redacted: path 'trigger.headers.x-custom']",
        "other": "ok",
    }
    assert out["rows"][0] == {"ssn": "[redacted: path 'rows.*.ssn']", "name": "A"}
    assert [r.path for r in found] == ["trigger.headers.x-custom", "rows.0.ssn", "rows.1.ssn"]


def test_custom_key_list_replaces_the_defaults() -> None:
    policy = RedactionPolicy(keys=frozenset({"pin"}), key_suffixes=())
    out, _ = redact({"pin": 1234, "password": "x"}, policy)
    assert out == {"pin": "[redacted: key 'pin']", "password": "x"}


def test_redaction_happens_before_hashing() -> None:
    a = encode({"text": f"use {SLACK}"})
    b = encode({"text": "use xoxb-9999999999-8888888888-ZzZzZzZzZzZzZzZzZzZzZzZz"})
    assert a.hash == b.hash
    assert SLACK.encode() not in decode(a.data)["text"].encode()
    assert a.redactions == (Redaction(path="text", reason="Slack token"),)


def test_redaction_of_a_large_payload_finds_the_needle() -> None:
    filler = "lorem ipsum dolor sit amet " * 40_000
    out, found = redact(to_json_data({"a": [filler, f"{filler} {GITHUB}"]}))
    assert GITHUB not in out["a"][1]
    assert found == [Redaction(path="a.1", reason="GitHub token")]


class _Ticket(BaseModel):
    identifier: str


def test_json_size_at_most_stops_early_and_looks_into_models() -> None:
    assert json_size_at_most({"a": "x" * 100}, 1000)
    assert not json_size_at_most({"a": "x" * 2000}, 1000)
    assert not json_size_at_most([{"k": "v"}] * 100_000, 1000)
    assert not json_size_at_most(_Ticket(identifier="x" * 2000), 1000)
    assert json_size_at_most(_Ticket(identifier="ENG-1"), 1000)
