"""What the Monday emulator stores: boards, columns, groups, items and users.

State is plain dataclasses seeded from :class:`SeedData`, so the same seed gives the same
board. Column values are stored the way Monday stores them: the ``value`` JSON of the
column's type at write time (``{"index": 1}`` for a status, ``{"date": …}`` for a date,
a bare string for a text column), with the type recorded beside it so a later
``change_type`` fault can render it in the new type. Time is a logical clock (one second
per write from :data:`CLOCK_START`), never the wall clock, so runs are reproducible.

Data faults never change this state: :mod:`.emulator_view` applies them to what each
request sees, because a fault with ``from_run`` must be able to switch on mid-sandbox.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sandbox.seed import (
    EPOCH,
    MONDAY_BOARD_NAME,
    MONDAY_PRIORITY_LABELS,
    MONDAY_STATUS_LABELS,
    SeedData,
    SeedIssue,
)

# The logical "now" of a fresh sandbox: three weeks after the seed's first issue, so some
# seeded due dates are already past (overdue) and some are not.
CLOCK_START = EPOCH + timedelta(days=21)
SEEDED_ITEM_COUNT = 20
ITEM_NAME_MAX_LENGTH = 255

# Like Monday's default status column, indexes are not the order of the labels.
STATUS_INDEXES: dict[str, int] = {
    "Working on it": 0,
    "Done": 1,
    "Stuck": 2,
    "Triage": 3,
    "Canceled": 4,
}
_LINEAR_TO_PRIORITY = {0: "None", 1: "Critical", 2: "High", 3: "Medium", 4: "Low"}
_SEEDED_STATUSES = ("Triage", "Working on it", "Working on it", "Stuck", "Done", "Canceled")


@dataclass
class Column:
    """One board column as created; ``labels`` maps a status index to its label."""

    id: str
    title: str
    type: str
    labels: dict[int, str] = field(default_factory=dict)


@dataclass
class Group:
    id: str
    title: str
    color: str


@dataclass
class StoredValue:
    """A column value as written: Monday's ``value`` JSON for ``type``."""

    type: str
    value: Any


@dataclass
class Item:
    id: int
    name: str
    board_id: int
    group_id: str
    created_at: datetime
    updated_at: datetime
    values: dict[str, StoredValue] = field(default_factory=dict)


@dataclass
class Board:
    id: int
    name: str
    columns: list[Column]
    groups: list[Group]
    items: dict[int, Item] = field(default_factory=dict)


@dataclass
class User:
    id: int
    name: str
    email: str


@dataclass
class StoredWebhook:
    id: int
    board_id: int
    url: str
    event: str
    config: dict[str, Any] | None

    def node(self) -> dict[str, Any]:
        """The ``Webhook`` object: ``config`` comes back as a JSON string."""
        config = json.dumps(self.config) if self.config is not None else None
        return {
            "id": str(self.id),
            "board_id": str(self.board_id),
            "event": self.event,
            "config": config,
        }


@dataclass
class MondayState:
    """Everything the emulator holds, plus the logical clock and id counters."""

    account_id: int
    boards: dict[int, Board]
    users: dict[int, User]
    next_item_id: int
    clock: datetime = CLOCK_START
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhooks: dict[int, StoredWebhook] = field(default_factory=dict)

    def tick(self) -> datetime:
        """Advance the logical clock by one second and return the new time."""
        self.clock += timedelta(seconds=1)
        return self.clock

    def new_item_id(self) -> int:
        self.next_item_id += 7  # real item ids are sparse; so are ours
        return self.next_item_id

    def find_item(self, item_id: int) -> Item | None:
        for board in self.boards.values():
            if item_id in board.items:
                return board.items[item_id]
        return None

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def snapshot(self) -> dict[str, Any]:
        """The stored objects as JSON (what ``GET /_sandbox/state`` shows)."""
        return {
            "account_id": self.account_id,
            "clock": iso(self.clock),
            "boards": [_board_json(b) for b in self.boards.values()],
            "users": [vars(u).copy() for u in self.users.values()],
            "updates": [dict(u) for u in self.updates],
            "webhooks": [w.node() for w in self.webhooks.values()],
        }


def iso(moment: datetime) -> str:
    """Monday's timestamp format: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_state(seed: SeedData) -> MondayState:
    """The seeded world: the Triage board with ~20 items, and the seeded people."""
    board = Board(
        id=seed.monday_board_id,
        name=MONDAY_BOARD_NAME,
        columns=_seed_columns(),
        groups=[Group("topics", "Open", "#579bfc"), Group("done", "Done", "#00c875")],
    )
    users = {
        p.monday_user_id: User(id=p.monday_user_id, name=p.name, email=p.email) for p in seed.people
    }
    state = MondayState(
        account_id=9_000_000 + seed.seed,
        boards={board.id: board},
        users=users,
        next_item_id=seed.monday_board_id + 1_000_000,
    )
    rng = random.Random(f"{seed.seed}:monday")
    for issue in seed.issues[-SEEDED_ITEM_COUNT:]:
        item = _seed_item(state, board, issue, seed, rng)
        board.items[item.id] = item
    return state


def _seed_columns() -> list[Column]:
    return [
        Column("name", "Name", "name"),
        Column("status", "Status", "status", {STATUS_INDEXES[x]: x for x in MONDAY_STATUS_LABELS}),
        Column("priority", "Priority", "status", dict(enumerate(MONDAY_PRIORITY_LABELS))),
        Column("date4", "Due", "date"),
        Column("person", "Owner", "people"),
        Column("text_linear", "Linear ID", "text"),
        Column("link", "Link", "link"),
        Column("text_labels", "Labels", "text"),
    ]


def _seed_item(
    state: MondayState, board: Board, issue: SeedIssue, seed: SeedData, rng: random.Random
) -> Item:
    status = rng.choice(_SEEDED_STATUSES)
    created = issue.created_at
    url = f"https://linear.app/steptrace/issue/{issue.identifier.lower()}"
    values = {
        "status": StoredValue("status", {"index": STATUS_INDEXES[status], "post_id": None}),
        "priority": StoredValue(
            "status", {"index": MONDAY_PRIORITY_LABELS.index(_LINEAR_TO_PRIORITY[issue.priority])}
        ),
        "text_linear": StoredValue("text", issue.identifier),
        "link": StoredValue("link", {"url": url, "text": issue.identifier}),
    }
    if issue.labels:
        values["text_labels"] = StoredValue("text", ", ".join(issue.labels))
    if issue.due_date is not None:
        values["date4"] = StoredValue("date", {"date": issue.due_date.isoformat(), "time": None})
    if issue.assignee is not None:
        owner = seed.person(issue.assignee).monday_user_id
        values["person"] = StoredValue(
            "people", {"personsAndTeams": [{"id": owner, "kind": "person"}]}
        )
    return Item(
        id=state.new_item_id(),
        name=issue.title,
        board_id=board.id,
        group_id="done" if status in ("Done", "Canceled") else "topics",
        created_at=created,
        updated_at=created + timedelta(minutes=rng.randrange(1, 600)),
        values=values,
    )


def _board_json(board: Board) -> dict[str, Any]:
    return {
        "id": board.id,
        "name": board.name,
        "columns": [vars(c).copy() for c in board.columns],
        "groups": [vars(g).copy() for g in board.groups],
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "group_id": item.group_id,
                "created_at": iso(item.created_at),
                "updated_at": iso(item.updated_at),
                "values": {
                    cid: {"type": v.type, "value": v.value} for cid, v in item.values.items()
                },
            }
            for item in board.items.values()
        ],
    }
