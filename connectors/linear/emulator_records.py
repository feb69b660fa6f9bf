"""The objects beyond issues that the Linear emulator stores: comments, webhooks, projects.

Plain records, kept by :class:`.emulator_state.LinearStore` and shown by
:mod:`.emulator_views`; the mutations that write them are in :mod:`.emulator_mutations`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StoredComment:
    """A comment on an issue."""

    id: str
    issue_id: str
    user_id: str
    body: str
    created_at: str
    updated_at: str


@dataclass
class StoredWebhook:
    """A registered webhook (stored and listed; the sandbox does not deliver to it)."""

    id: str
    url: str
    label: str | None
    enabled: bool
    resource_types: list[str]
    team_id: str | None
    all_public_teams: bool
    secret: str | None
    created_at: str
    updated_at: str


@dataclass
class StoredProject:
    """A project, with the teams it belongs to."""

    id: str
    name: str
    description: str
    team_ids: list[str]
    created_at: str
    updated_at: str
