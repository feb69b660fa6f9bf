"""The four tool clients of one worker, and the few lookups the ops share.

Pipelines name things the way ops people see them (the base "Ops Tracker", the board
"Triage", a person's email); this module resolves those names to ids once per worker
and adapts op arguments to connector calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from connectors.airtable.client import AirtableClient
from connectors.airtable.models import RecordUpdate
from connectors.errors import NotFoundError
from connectors.linear.client import LinearClient
from connectors.linear.models import IssueCreate, IssueWriteResult
from connectors.monday.client import MondayClient
from connectors.monday.models import Board, Item, ItemWriteResult
from connectors.slack.client import SlackClient
from connectors.slack.models import MessageWriteResult
from connectors.writes import ExternalWrite
from orchestrator.config.settings import Settings
from orchestrator.spec.ops import (
    AirtableUpdateRecordArgs,
    AirtableUpsertRecordArgs,
    LinearUpsertIssueArgs,
    MondayUpsertItemArgs,
    SlackPostMessageArgs,
)


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

    async def upsert_airtable_record(self, args: AirtableUpsertRecordArgs) -> ExternalWrite:
        base = await self.airtable_base(args.base)
        result = await self.airtable.upsert_records(
            base, args.table, [args.fields], args.merge_on, typecast=args.typecast
        )
        return result.writes[0]

    async def update_airtable_record(self, args: AirtableUpdateRecordArgs) -> ExternalWrite:
        base = await self.airtable_base(args.base)
        update = RecordUpdate(id=args.record_id, fields=args.fields)
        writes = await self.airtable.update_records(
            base, args.table, [update], typecast=args.typecast
        )
        return writes[0]

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

    async def monday_items(self, board: str | int | None) -> tuple[Board, list[Item]]:
        board_id = await self.monday_board(board)
        found = await self.monday.get_board(board_id)
        return found, [item async for item in self.monday.list_items(board_id)]

    async def upsert_monday_item(self, args: MondayUpsertItemArgs) -> tuple[Board, ItemWriteResult]:
        board_id = await self.monday_board(args.board)
        result = await self.monday.upsert_item(
            board_id, args.key_column, args.key_value, args.name, args.values
        )
        return await self.monday.get_board(board_id), result

    # -- Linear -------------------------------------------------------------------------

    async def upsert_linear_issue(self, args: LinearUpsertIssueArgs) -> IssueWriteResult:
        issue = IssueCreate(
            team_key=args.team,
            title=args.title,
            description=args.description,
            priority=args.priority,
            due_date=args.due_date,
            state=args.state,
            assignee_email=args.assignee_email,
            labels=tuple(args.labels) if args.labels else None,
        )
        return await self.linear.upsert_issue(args.key, issue)

    # -- Slack --------------------------------------------------------------------------

    async def post_slack_message(
        self, args: SlackPostMessageArgs, *, idempotency_key: str
    ) -> MessageWriteResult:
        text = args.text
        if args.mention_email:
            text = f"{text} {await self._mention(args.mention_email)}".rstrip()
        return await self.slack.post_message(
            args.channel, text, thread_ts=args.thread_ts, idempotency_key=idempotency_key
        )

    async def _mention(self, email: str) -> str:
        """``<@U…>`` for the person, or nothing when Slack does not know the email.

        A missing mention does not fail the notification; QC reports it.
        """
        try:
            user = await self.slack.lookup_user_by_email(email)
        except NotFoundError:
            return ""
        return f"<@{user.id}>"
