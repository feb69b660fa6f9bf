"""How requests to the emulated Airtable are read: paths, operations, list parameters.

Paths are split on the *raw* path and each segment unquoted, so a table named
``Q3/Q4 plans`` (sent as ``Q3%2FQ4%20plans``) is one segment, as in Airtable.
Operations are named after the client's methods (``list_records``, ``upsert_records``…),
which is what a fault's ``operation`` names.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from connectors.airtable.emulator_state import MAX_PAGE_SIZE, ListParams
from connectors.airtable.emulator_values import typed_error
from connectors.sandbox.app import Operation

_SORT_KEY = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")
_WRITES = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass(frozen=True)
class Target:
    """What a path points at."""

    kind: str  # bases | whoami | webhooks | payloads | schema | table | list | record | unknown
    base: str = ""
    table: str = ""
    record: str = ""


def parse_path(raw_path: str) -> Target:
    parts = [unquote(p) for p in raw_path.strip("/").split("/")]
    if len(parts) < 2 or parts[0] != "v0":
        return Target("unknown")
    if parts[1] == "meta":
        if parts[2:] == ["bases"]:
            return Target("bases")
        if parts[2:] == ["whoami"]:
            return Target("whoami")
        if len(parts) == 5 and parts[2] == "bases" and parts[4] == "tables":
            return Target("schema", base=parts[3])
        return Target("unknown")
    if parts[1] == "bases" and len(parts) >= 4 and parts[3] == "webhooks":
        # /v0/bases/{base}/webhooks and /v0/bases/{base}/webhooks/{id}/payloads
        if len(parts) == 4:
            return Target("webhooks", base=parts[2])
        if len(parts) == 6 and parts[5] == "payloads":
            return Target("payloads", base=parts[2], record=parts[4])
        return Target("unknown")
    if len(parts) == 3:
        return Target("table", parts[1], parts[2])
    if len(parts) == 4 and parts[3] == "listRecords":
        return Target("list", parts[1], parts[2])
    if len(parts) == 4:
        return Target("record", parts[1], parts[2], parts[3])
    return Target("unknown")


def operation_for(method: str, target: Target, body: Any) -> Operation:
    """The operation a request performs, named like the client's method."""
    name = "unknown"
    if target.kind == "bases" and method == "GET":
        name = "list_bases"
    elif target.kind == "whoami" and method == "GET":
        name = "whoami"
    elif target.kind == "webhooks" and method == "POST":
        name = "create_webhook"
    elif target.kind == "payloads" and method == "GET":
        name = "list_webhook_payloads"
    elif target.kind == "schema" and method == "GET":
        name = "get_table_schema"
    elif target.kind == "list" and method == "POST":
        name = "list_records"
    elif target.kind == "record":
        name = {"GET": "get_record", "DELETE": "delete_records"}.get(method, "update_records")
    elif target.kind == "table":
        upsert = isinstance(body, dict) and "performUpsert" in body
        name = {
            "GET": "list_records",
            "POST": "create_records",
            "DELETE": "delete_records",
        }.get(method, "upsert_records" if upsert else "update_records")
    return Operation(name, is_write=method in _WRITES and name != "list_records")


def parse_body(raw: bytes) -> Any:
    """The JSON body; NaN or broken JSON is Airtable's 422 ``INVALID_REQUEST_BODY``."""
    if not raw:
        return {}
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise typed_error(
            422, "INVALID_REQUEST_BODY", f"Could not parse the request body as JSON: {exc}"
        ) from exc


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def list_params_from_query(query: str) -> ListParams:
    pairs = query_pairs(query)
    single = dict(pairs)
    sorts: dict[int, dict[str, str]] = {}
    for key, value in pairs:
        match = _SORT_KEY.match(key)
        if match:
            sorts.setdefault(int(match.group(1)), {})[match.group(2)] = value
    fields = [v for k, v in pairs if k in ("fields[]", "fields")]
    return _list_params(
        page_size=single.get("pageSize"),
        offset=single.get("offset"),
        formula=single.get("filterByFormula"),
        fields=fields if fields else None,
        sort=[sorts[i] for i in sorted(sorts)],
        cell_format=single.get("cellFormat"),
        by_field_id=single.get("returnFieldsByFieldId", "").lower() in ("1", "true"),
        max_records=single.get("maxRecords"),
    )


def list_params_from_body(body: Any) -> ListParams:
    if not isinstance(body, dict):
        raise typed_error(422, "INVALID_REQUEST_BODY", "The request body must be a JSON object")
    return _list_params(
        page_size=body.get("pageSize"),
        offset=body.get("offset"),
        formula=body.get("filterByFormula"),
        fields=body.get("fields"),
        sort=body.get("sort") or [],
        cell_format=body.get("cellFormat"),
        by_field_id=bool(body.get("returnFieldsByFieldId")),
        max_records=body.get("maxRecords"),
    )


def _list_params(
    *,
    page_size: Any,
    offset: Any,
    formula: Any,
    fields: Any,
    sort: list[Any],
    cell_format: Any,
    by_field_id: bool,
    max_records: Any,
) -> ListParams:
    return ListParams(
        page_size=_integer(page_size, "pageSize", MAX_PAGE_SIZE),
        offset=str(offset) if offset else None,
        formula=str(formula) if formula else None,
        fields=tuple(str(f) for f in fields) if fields is not None else None,
        sort=tuple(
            (str(s.get("field", "")), str(s.get("direction", "asc")).lower() == "desc")
            for s in sort
            if isinstance(s, dict)
        ),
        cell_format=str(cell_format or "json"),
        by_field_id=by_field_id,
        max_records=_integer(max_records, "maxRecords", 0) or None,
    )


def _integer(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or number < 1:
        raise typed_error(422, "INVALID_REQUEST_UNKNOWN", f"Invalid value for {name}: {value!r}")
    return int(number)
