"""The seeded rows of the emulated base's ``Intake`` table.

A dozen requests as people file them: titles borrowed from the seeded Linear issues,
some unicode and emoji, one row whose Title is missing (a primary field left blank, which
Airtable allows), some already filed with a link to their Linear issue.
"""

from __future__ import annotations

import random
from typing import Any

from connectors.airtable.emulator_schema import INTAKE_STATUS_OPTIONS
from connectors.sandbox.seed import AIRTABLE_PRIORITY_OPTIONS, SeedData

INTAKE_ROWS = 12
_UNICODE_TITLES = (
    "Zoë can't export invoices from Zürich 🇨🇭",
    "山田さんの請求書が二重に送信される",
    "Łódź office: SSO loop after password reset 🔁",
)


def intake_rows(data: SeedData) -> list[dict[str, Any]]:
    """The Intake rows for ``data``'s seed, as the ``fields`` of a create request."""
    rng = random.Random(f"{data.seed}:airtable-intake")
    rows: list[dict[str, Any]] = []
    for i in range(INTAKE_ROWS):
        issue = data.issues[(i * 5) % len(data.issues)]
        title = _UNICODE_TITLES[i // 4] if i % 4 == 2 else issue.title
        status = INTAKE_STATUS_OPTIONS[rng.randrange(len(INTAKE_STATUS_OPTIONS))]
        fields: dict[str, Any] = {
            "Title": title,
            "Description": issue.description.split("\n\n")[0],
            "Priority": AIRTABLE_PRIORITY_OPTIONS[rng.randrange(len(AIRTABLE_PRIORITY_OPTIONS))],
            "Reporter": rng.choice(data.people).email,
            "Status": status,
        }
        if status == "Filed":
            fields["Linear Issue"] = f"https://linear.app/steptrace/issue/{issue.identifier}"
        if i == 7:
            del fields["Title"]  # someone filed a request without a title
        rows.append(fields)
    return rows
