"""The codec server's protocol edges: CORS for the UI's origin only, the bearer token,
the namespace, and bad bodies — through the ASGI app with httpx."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from orchestrator.runtime.codec import Keyring, new_key_entry
from orchestrator.service.codec_server import CodecServerConfig, codec_app

UI = "https://temporal-ui.example.test"
TOKEN = "codec-token-for-tests"
PAYLOADS = {
    "payloads": [
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'{"token": "PlantedForCodecServer"}').decode(),
        }
    ]
}


@pytest.fixture
def client() -> httpx.AsyncClient:
    config = CodecServerConfig(
        Keyring.parse(new_key_entry("k1"), source="test"), "default", [UI], TOKEN
    )
    transport = httpx.ASGITransport(app=codec_app(config))
    return httpx.AsyncClient(transport=transport, base_url="http://codec")


def headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default", **extra}


async def test_encode_then_decode_round_trips(client: httpx.AsyncClient) -> None:
    encoded = await client.post("/encode", json=PAYLOADS, headers=headers())
    assert encoded.status_code == 200
    assert b"PlantedForCodecServer" not in base64.b64decode(encoded.json()["payloads"][0]["data"])
    decoded = await client.post("/decode", content=encoded.content, headers=headers())
    assert decoded.json() == PAYLOADS


async def test_preflight_allows_the_ui_origin_only(client: httpx.AsyncClient) -> None:
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    allowed = await client.options("/decode", headers={"Origin": UI, **asked})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    other = await client.options("/decode", headers={"Origin": "https://evil.test", **asked})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("auth", [None, "Bearer wrong", f"Basic {TOKEN}"])
async def test_requests_without_the_token_are_refused(
    client: httpx.AsyncClient, auth: str | None
) -> None:
    sent = {"X-Namespace": "default"} | ({"Authorization": auth} if auth else {})
    response = await client.post("/decode", json=PAYLOADS, headers=sent)
    assert response.status_code == 401
    assert "PlantedForCodecServer" not in response.text


async def test_another_namespace_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", json=PAYLOADS, headers=headers(**{"X-Namespace": "x"}))
    assert response.status_code == 403


async def test_a_bad_body_and_an_unknown_key_are_named(client: httpx.AsyncClient) -> None:
    bad = await client.post("/decode", content=b"not json", headers=headers())
    assert bad.status_code == 400 and "Payloads" in bad.json()["error"]
    foreign = {
        "payloads": [
            {
                "metadata": {
                    "encoding": base64.b64encode(b"binary/encrypted").decode(),
                    "encryption-key-id": base64.b64encode(b"k9").decode(),
                },
                "data": base64.b64encode(b"0" * 40).decode(),
            }
        ]
    }
    unknown = await client.post("/decode", content=json.dumps(foreign), headers=headers())
    assert unknown.status_code == 422 and "'k9'" in unknown.json()["error"]
