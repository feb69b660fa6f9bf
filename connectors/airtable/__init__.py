"""Airtable: the async REST client, its models, and the sandbox emulator beside them.

``AirtableClient`` (:mod:`.client`) is what pipelines use; :mod:`.emulator` serves the
same wire format on loopback for the sandbox.
"""

from connectors.airtable.client import AirtableClient
from connectors.airtable.models import (
    BaseInfo,
    FieldSchema,
    Record,
    RecordPage,
    RecordUpdate,
    SelectChoice,
    TableSchema,
    UpsertResult,
)

__all__ = [
    "AirtableClient",
    "BaseInfo",
    "FieldSchema",
    "Record",
    "RecordPage",
    "RecordUpdate",
    "SelectChoice",
    "TableSchema",
    "UpsertResult",
]
