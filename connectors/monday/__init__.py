"""Monday.com: the connector and its sandbox emulator, side by side.

- :mod:`.client` — :class:`MondayClient`, async, over Monday's GraphQL API v2;
  :mod:`.models` its inputs and outputs; :mod:`.encoding` Python values ↔ Monday's
  column-value JSON; :mod:`.error_map` Monday's answers → :mod:`connectors.errors`.
- :mod:`.emulator` — the sandbox's Monday (``build_emulator``), with
  ``emulator_state``, ``emulator_values``, ``emulator_schema`` (+ ``.graphql``),
  ``emulator_resolvers`` and ``emulator_mutations``. The emulator imports graphql-core;
  the client does not, so importing the client stays cheap.
"""

from connectors.monday.client import MondayClient
from connectors.monday.models import (
    Board,
    Column,
    ColumnInput,
    ColumnValue,
    Group,
    Item,
    ItemWriteResult,
    StatusLabel,
    User,
)

__all__ = [
    "Board",
    "Column",
    "ColumnInput",
    "ColumnValue",
    "Group",
    "Item",
    "ItemWriteResult",
    "MondayClient",
    "StatusLabel",
    "User",
]
