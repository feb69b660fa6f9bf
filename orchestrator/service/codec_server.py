"""``steptrace codec-server``: Temporal's codec-server protocol over the payload codec.

The Temporal web UI (and ``temporal workflow show --codec-endpoint``) sends encrypted
payloads here to show them decoded, to those allowed: ``POST /decode`` and
``POST /encode`` with ``{"payloads": [{"metadata": {…base64…}, "data": "…base64…"}]}``
(protobuf JSON of ``temporalio.api.common.v1.Payloads``), the namespace in
``X-Namespace``.

Authorization: every request must carry ``Authorization: Bearer <token>`` with the
token from ``STEPTRACE_CODEC_AUTH_TOKEN`` (point the UI's "pass access token" at an
identity provider that issues it, or put the server behind your proxy's auth and run
it with ``--no-auth`` there). Requests for another namespace than the configured one
are refused. CORS allows only the UI's origin (``--ui-origin``), so a page elsewhere
cannot use a signed-in browser to decode.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from orchestrator.runtime.codec import AesGcmCodec, CodecKeyError, Keyring

AUTH_TOKEN_ENV = "STEPTRACE_CODEC_AUTH_TOKEN"


@dataclass(frozen=True)
class CodecServerConfig:
    keyring: Keyring
    namespace: str
    ui_origins: Sequence[str]
    auth_token: str | None
    """``None`` only when the operator chose ``--no-auth`` (auth done in front of us)."""


def codec_app(config: CodecServerConfig) -> Starlette:
    codec = AesGcmCodec(config.keyring)

    async def handle(request: Request) -> Response:
        refused = _refusal(request, config)
        if refused is not None:
            return refused
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except (json_format.ParseError, DecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not a Payloads JSON object: {exc}")
        convert = codec.encode if request.url.path.endswith("/encode") else codec.decode
        try:
            converted = await convert(list(payloads.payloads))
        except CodecKeyError as exc:
            return _error(422, str(exc))
        body = json_format.MessageToJson(Payloads(payloads=converted))
        return Response(body, media_type="application/json")

    return Starlette(
        routes=[
            Route("/encode", handle, methods=["POST"]),
            Route("/decode", handle, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.ui_origins),
                allow_methods=["POST"],
                allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                allow_credentials=True,
            )
        ],
    )


def _refusal(request: Request, config: CodecServerConfig) -> Response | None:
    if config.auth_token is not None:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), config.auth_token.encode()
        ):
            return _error(401, "missing or wrong bearer token")
    namespace = request.headers.get("x-namespace")
    if namespace is not None and namespace != config.namespace:
        return _error(403, f"this codec server serves namespace {config.namespace!r} only")
    return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
