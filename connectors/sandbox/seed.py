"""Deterministic seed data shared by the four emulators.

The same seed gives the same world: Linear issues ``ENG-101`` … ``ENG-160`` with varied
priority, state, assignee, labels and due dates (some missing), long and unicode/emoji
descriptions; people whose emails are the same in Linear, Slack and Monday; the Airtable
base and the Monday board the example pipelines write to; the Slack channels they post
in. Ids look like the real tools' ids (``rec…``, ``C…``, UUIDs) but are derived from the
seed, so tests can name them.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache

from pydantic import BaseModel, ConfigDict

TEAM_KEY = "ENG"
FIRST_ISSUE_NUMBER = 101
ISSUE_COUNT = 60
EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# Linear's priority numbers and labels (0 none, 1 urgent … 4 low).
PRIORITY_LABELS: dict[int, str] = {0: "No priority", 1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}

# Linear workflow states: (name, type).
LINEAR_STATES: tuple[tuple[str, str], ...] = (
    ("Triage", "triage"),
    ("Backlog", "backlog"),
    ("Todo", "unstarted"),
    ("In Progress", "started"),
    ("In Review", "started"),
    ("Done", "completed"),
    ("Canceled", "canceled"),
)
LINEAR_LABELS: tuple[str, ...] = (
    "bug",
    "feature",
    "incident",
    "customer",
    "infra",
    "security",
    "billing",
)

# The Airtable base the example pipelines use.
AIRTABLE_BASE_NAME = "Ops Tracker"
AIRTABLE_ISSUES_TABLE = "Issues"
AIRTABLE_PRIORITY_OPTIONS: tuple[str, ...] = ("Urgent", "High", "Medium", "Low", "No priority")
AIRTABLE_STATUS_OPTIONS: tuple[str, ...] = (
    "Triage",
    "Backlog",
    "Todo",
    "In Progress",
    "In Review",
    "Done",
    "Canceled",
)
AIRTABLE_INTAKE_TABLE = "Intake"
AIRTABLE_DIGESTS_TABLE = "Digests"

# The Monday board the example pipelines use.
MONDAY_BOARD_NAME = "Triage"
MONDAY_STATUS_LABELS: tuple[str, ...] = ("Triage", "Working on it", "Stuck", "Done", "Canceled")
MONDAY_PRIORITY_LABELS: tuple[str, ...] = ("Critical", "High", "Medium", "Low", "None")

SLACK_CHANNELS: tuple[str, ...] = ("triage", "incidents", "ops-alerts", "eng-oncall")
SLACK_TEAM_ID = "T0STEPTRC"
SLACK_BOT_USER_ID = "U0STEPBOT"

_FIRST_NAMES = ("Ada", "Bruno", "Chidi", "Dana", "Élodie", "Farid", "Grace", "Hiro", "Ines", "Jun")
_LAST_NAMES = ("Okafor", "Lindqvist", "Nakamura", "García", "Novak", "Haddad", "Kowalski", "Berg")
_TITLE_SUBJECTS = (
    "Checkout",
    "Login",
    "Invoice export",
    "Search",
    "Webhook delivery",
    "Dashboard",
    "Mobile sync",
    "SSO",
    "Billing page",
    "Notification emails",
)
_TITLE_PROBLEMS = (
    "fails for customers in the EU",
    "times out under load",
    "shows the wrong currency",
    "drops the last row",
    "returns 500 after deploy",
    "is slow on Mondays",
    "double-charges on retry",
    "ignores the locale",
    "crashes on emoji input 😅",
    "needs a retry button",
)
_DESCRIPTION_LINES = (
    "Customer report via support: the page spins forever, then shows an error.",
    "Steps: open the page, pick any account, press **Save**.",
    "Expected: the change is saved. Actual: nothing happens and the console logs a 500.",
    "Seen by Zoë in Zürich and by 山田 in 東京 — not region-specific after all 🤔.",
    "Happens about 1 in 20 tries; more often right after a deploy. 🚀",
    "Workaround for now: refresh twice. Customers are unhappy 😡.",
    "Related dashboards: latency p95 went from 180 ms to 2.4 s.",
    "Logs attached in the thread; the trace id is 7f3a-91c2.",
)


class Person(BaseModel):
    """One person, known to every tool under the same email."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    display_name: str
    email: str
    linear_user_id: str
    slack_user_id: str
    monday_user_id: int


class SeedIssue(BaseModel):
    """One Linear issue as seeded."""

    model_config = ConfigDict(frozen=True)

    id: str
    identifier: str
    number: int
    title: str
    description: str
    priority: int
    state: str
    assignee: str | None
    labels: tuple[str, ...]
    due_date: date | None
    created_at: datetime
    updated_at: datetime


class SeedData(BaseModel):
    """Everything the emulators start from, for one seed."""

    model_config = ConfigDict(frozen=True)

    seed: int
    people: tuple[Person, ...]
    issues: tuple[SeedIssue, ...]
    team_id: str
    airtable_base_id: str
    monday_board_id: int
    slack_channel_ids: dict[str, str]

    def person(self, key: str) -> Person:
        for person in self.people:
            if person.key == key:
                return person
        raise KeyError(f"no seeded person {key!r}")

    def issue(self, identifier: str) -> SeedIssue:
        for issue in self.issues:
            if issue.identifier == identifier:
                return issue
        raise KeyError(f"no seeded issue {identifier!r}")


def stable_id(seed: int, *parts: object, prefix: str = "", length: int = 14) -> str:
    """A tool-looking id derived from the seed and ``parts`` (e.g. ``rec`` + 14 chars)."""
    rng = random.Random(f"{seed}:" + ":".join(str(p) for p in parts))
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


def stable_uuid(seed: int, *parts: object) -> str:
    """A UUID derived from the seed and ``parts``, like Linear's ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"steptrace:{seed}:" + ":".join(map(str, parts))))


@cache
def generate(seed: int) -> SeedData:
    """The seeded world for ``seed``; the same seed always gives the same data."""
    rng = random.Random(seed)
    people = _people(seed, rng)
    issues = tuple(_issue(seed, rng, n, people) for n in range(ISSUE_COUNT))
    return SeedData(
        seed=seed,
        people=people,
        issues=issues,
        team_id=stable_uuid(seed, "team", TEAM_KEY),
        airtable_base_id=stable_id(seed, "base", prefix="app"),
        monday_board_id=1_800_000_000 + rng.randrange(1_000_000),
        slack_channel_ids={
            name: stable_id(seed, "channel", name, prefix="C", length=10).upper()
            for name in SLACK_CHANNELS
        },
    )


def _people(seed: int, rng: random.Random) -> tuple[Person, ...]:
    people = []
    for i, first in enumerate(_FIRST_NAMES):
        last = _LAST_NAMES[(i + rng.randrange(len(_LAST_NAMES))) % len(_LAST_NAMES)]
        key = f"{first}.{last}".lower()
        ascii_key = key.encode("ascii", "ignore").decode() or f"user{i}"
        people.append(
            Person(
                key=ascii_key,
                name=f"{first} {last}",
                display_name=first.lower(),
                email=f"{ascii_key}@example.com",
                linear_user_id=stable_uuid(seed, "user", ascii_key),
                slack_user_id=stable_id(
                    seed, "slack-user", ascii_key, prefix="U", length=10
                ).upper(),
                monday_user_id=40_000_000 + i * 1_111 + rng.randrange(1_000),
            )
        )
    return tuple(people)


def _issue(seed: int, rng: random.Random, n: int, people: tuple[Person, ...]) -> SeedIssue:
    number = FIRST_ISSUE_NUMBER + n
    title = f"{rng.choice(_TITLE_SUBJECTS)} {rng.choice(_TITLE_PROBLEMS)}"
    if n % 9 == 4:
        title += " — " + "follow-up on the incident review " * 3
    lines = rng.sample(_DESCRIPTION_LINES, k=rng.randint(2, len(_DESCRIPTION_LINES)))
    if n % 7 == 3:
        lines = lines * 12  # a long description, several kilobytes
    created = EPOCH + timedelta(hours=n * 5 + rng.randrange(5))
    due = created.date() + timedelta(days=rng.randint(2, 30)) if n % 4 != 1 else None
    assignee = None if n % 6 == 5 else rng.choice(people).key
    return SeedIssue(
        id=stable_uuid(seed, "issue", number),
        identifier=f"{TEAM_KEY}-{number}",
        number=number,
        title=title,
        description="\n\n".join(lines),
        priority=(0, 1, 2, 2, 3, 3, 3, 4)[rng.randrange(8)],
        state=rng.choice(LINEAR_STATES[:5])[0],
        assignee=assignee,
        labels=tuple(sorted(rng.sample(LINEAR_LABELS, k=rng.randint(0, 3)))),
        due_date=due,
        created_at=created,
        updated_at=created + timedelta(minutes=rng.randrange(600)),
    )
