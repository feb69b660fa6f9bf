"""Raw requests to the Monday emulator, for tests of the wire format itself."""

from __future__ import annotations

import httpx

from connectors.sandbox.server import Sandbox

TOKEN = "test-token"


class Wire:
    """Raw GraphQL requests to the emulator, for tests of the wire format itself."""

    def __init__(self, sandbox: Sandbox, http: httpx.AsyncClient) -> None:
        self.url = sandbox.urls["monday"] + "/v2"
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, object] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.http.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": TOKEN} if headers is None else headers,
        )
