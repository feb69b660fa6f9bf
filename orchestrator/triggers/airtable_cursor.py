"""Airtable's webhook payloads: a ping says "something changed", the cursor says what.

On each verified ping the receiver lists
``GET /v0/bases/{base}/webhooks/{webhook}/payloads?cursor=N`` until ``mightHaveMore`` is
false, and turns every created or changed record into an :class:`Event` whose delivery id
is ``{webhook}:{baseTransactionNumber}:{record}`` — stable, so two receivers reading the
same payloads (each keeps its own cursor, in memory) start one run between them.
"""

from __future__ import annotations

from typing import Any

import httpx

from orchestrator.triggers.deliveries import Event

_PAGE_LIMIT = 50  # pages per ping: a stuck `mightHaveMore` must not spin forever


class AirtableCursor:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._cursors: dict[str, int] = {}

    async def events(self, ping: dict[str, Any]) -> list[Event]:
        base = str((ping.get("base") or {}).get("id", ""))
        webhook = str((ping.get("webhook") or {}).get("id", ""))
        found: list[Event] = []
        for _ in range(_PAGE_LIMIT):
            page = await self._page(base, webhook, self._cursors.get(webhook, 1))
            for payload in page.get("payloads") or []:
                found += payload_events(webhook, payload)
            self._cursors[webhook] = int(page.get("cursor", self._cursors.get(webhook, 1)))
            if not page.get("mightHaveMore"):
                break
        return found

    async def _page(self, base: str, webhook: str, cursor: int) -> dict[str, Any]:
        response = await self._http.get(
            f"{self._base_url}/v0/bases/{base}/webhooks/{webhook}/payloads",
            params={"cursor": cursor},
            headers={"authorization": f"Bearer {self._token}"},
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def payload_events(webhook: str, payload: dict[str, Any]) -> list[Event]:
    """One event per record a payload created or changed."""
    number = payload.get("baseTransactionNumber", "")
    events: list[Event] = []
    for table, changes in (payload.get("changedTablesById") or {}).items():
        for action, key in (("create", "createdRecordsById"), ("update", "changedRecordsById")):
            for record, change in (changes.get(key) or {}).items():
                current = change.get("current", change) if action == "update" else change
                previous = change.get("previous") if action == "update" else None
                events.append(
                    Event(
                        tool="airtable",
                        delivery_id=f"{webhook}:{number}:{record}",
                        type=str(table),
                        action=action,
                        data={
                            "id": record,
                            "table": table,
                            "fields": current.get("cellValuesByFieldId") or {},
                        },
                        updated_from=(previous or {}).get("cellValuesByFieldId"),
                    )
                )
    return events
