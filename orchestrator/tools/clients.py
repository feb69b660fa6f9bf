"""The four tool clients of one worker, and the few lookups the ops share.

Pipelines name things the way ops people see them (the base "Ops Tracker", the board
"Triage", a person's email); this module resolves those names to ids once per worker.
What each op does with the clients is in the tool's adapter (``orchestrator/tools/<tool>.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from connectors.airtable.client import AirtableClient
from connectors.errors import NotFoundError
from connectors.linear.client import LinearClient
from connectors.monday.client import MondayClient
from connectors.slack.client import SlackClient
from orchestrator.config.settings import Settings


@dataclass
class ToolClients:
    linear: LinearClient
    airtable: AirtableClient
    monday: MondayClient
    slack: SlackClient
    default_base: str
    default_board: str
    _base_ids: dict[str, str] = field(default_factory=dict)
    _board_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> ToolClients:
        """Clients for every tool; ``settings`` must name an endpoint for each."""
        ends = settings.endpoints
        missing = settings.missing_endpoints()
        if missing:
            raise ValueError(f"no endpoint configured for {', '.join(missing)}")
        return cls(
            linear=LinearClient(
                http,
                base_url=ends["linear"].base_url,
                token=ends["linear"].token.get_secret_value(),
            ),
            airtable=AirtableClient(
                http,
                base_url=ends["airtable"].base_url,
                token=ends["airtable"].token.get_secret_value(),
            ),
            monday=MondayClient(
                http,
                base_url=ends["monday"].base_url,
                token=ends["monday"].token.get_secret_value(),
            ),
            slack=SlackClient(
                http, base_url=ends["slack"].base_url, token=ends["slack"].token.get_secret_value()
            ),
            default_base=settings.airtable_base,
            default_board=settings.monday_board,
        )

    # -- Airtable -----------------------------------------------------------------------

    async def airtable_base(self, base: str | None) -> str:
        """A base id, from an id (``app…``) or a base name."""
        wanted = base or self.default_base
        if wanted.startswith("app"):
            return wanted
        if wanted not in self._base_ids:
            bases = await self.airtable.list_bases()
            self._base_ids.update({b.name: b.id for b in bases})
        if wanted not in self._base_ids:
            raise NotFoundError(
                f"no Airtable base named {wanted!r} (known: {', '.join(self._base_ids)})",
                tool="airtable",
                operation="list_bases",
                field="base",
            )
        return self._base_ids[wanted]

    # -- Monday -------------------------------------------------------------------------

    async def monday_board(self, board: str | int | None) -> str:
        """A board id, from an id or a board name."""
        wanted = str(board or self.default_board)
        if wanted.isdigit():
            return wanted
        if wanted not in self._board_ids:
            found = await self.monday.find_board(wanted)
            self._board_ids[wanted] = found.id
        return self._board_ids[wanted]
