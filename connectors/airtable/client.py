"""The Airtable connector: an async client for Airtable's REST API.

Configured by base URL and token only and handed its ``httpx.AsyncClient``, it talks to
``https://api.airtable.com`` or to the sandbox alike. It never retries: every failure is
a :mod:`connectors.errors` class (mapped in :mod:`.error_map`) saying whether and when a
retry helps. Every write reports an :class:`~connectors.writes.ExternalWrite` per record
with the before-image read first (Airtable's write answers carry only the after-image),
and writes go in batches of ten, Airtable's limit.

Upserts are idempotent on their merge fields: Airtable's ``performUpsert`` matches
existing records on ``merge_on``, so repeating one — also after a timeout whose write
did land — updates the same record instead of creating a second.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from connectors.airtable.error_map import error_from_response
from connectors.airtable.models import (
    BaseInfo,
    Record,
    RecordPage,
    RecordUpdate,
    TableSchema,
    UpsertResult,
)
from connectors.errors import MalformedResponseError, NotFoundError, ValidationError
from connectors.http import parse_json, send
from connectors.retry import DEFAULT_POLICY, RetryPolicy, retrying
from connectors.writes import ExternalWrite, write_action

DEFAULT_BASE_URL = "https://api.airtable.com"
MAX_RECORDS_PER_WRITE = 10
MAX_PAGE_SIZE = 100
MAX_MERGE_FIELDS = 3
# pyairtable switches to POST …/listRecords past 16,000 characters of URL; so do we.
MAX_URL_LENGTH = 16_000

Fields = Mapping[str, Any]
_M = TypeVar("_M", bound=pydantic.BaseModel)


class AirtableClient:
    """Records and schema of Airtable bases, over Airtable's REST API."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token: str,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._retry = retry

    # --- reads --------------------------------------------------------------------

    async def list_records(
        self,
        base: str,
        table: str,
        *,
        formula: str | None = None,
        fields: Sequence[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncGenerator[RecordPage, None]:
        """Yield the pages of a listing (``formula`` is Airtable's ``filterByFormula``).

        An expired page iterator raises :class:`~connectors.errors.TransientError` with
        code ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``: list again from the start.
        """
        params: dict[str, Any] = {"pageSize": max(1, min(page_size, MAX_PAGE_SIZE))}
        if formula:
            params["filterByFormula"] = formula
        if fields is not None:
            params["fields[]"] = list(fields)
        offset: str | None = None
        while True:
            body = await self._list_page(base, table, {**params, "offset": offset})
            page = _decode(RecordPage, body, "list_records")
            yield page
            if not page.offset:
                return
            offset = page.offset

    async def all_records(
        self,
        base: str,
        table: str,
        *,
        formula: str | None = None,
        fields: Sequence[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[Record]:
        """Every record of a listing, all pages collected."""
        pages = self.list_records(base, table, formula=formula, fields=fields, page_size=page_size)
        return [record async for page in pages for record in page.records]

    async def get_record(self, base: str, table: str, record_id: str) -> Record:
        body = await self._request("GET", [base, table, record_id], operation="get_record")
        return _decode(Record, body, "get_record")

    async def list_bases(self) -> list[BaseInfo]:
        """The bases the token can see (all pages)."""
        bases: list[BaseInfo] = []
        offset: str | None = None
        while True:
            params = {"offset": offset} if offset else None
            body = await self._request(
                "GET", ["meta", "bases"], operation="list_bases", params=params
            )
            bases.extend(_decode(BaseInfo, b, "list_bases") for b in body.get("bases", []))
            offset = body.get("offset")
            if not offset:
                return bases

    async def get_table_schema(self, base: str, table: str) -> TableSchema:
        """One table's fields, types and options (``table`` is a name or an id)."""
        body = await self._request(
            "GET", ["meta", "bases", base, "tables"], operation="get_table_schema"
        )
        for raw in body.get("tables", []):
            if table in (raw.get("id"), raw.get("name")):
                return _decode(TableSchema, raw, "get_table_schema")
        raise NotFoundError(
            f"base {base} has no table {table!r}",
            tool="airtable",
            operation="get_table_schema",
            code="TABLE_NOT_FOUND",
        )

    # --- writes -------------------------------------------------------------------

    async def create_records(
        self, base: str, table: str, records: Sequence[Fields], *, typecast: bool = False
    ) -> list[ExternalWrite]:
        """Create records (not idempotent: use :meth:`upsert_records` to repeat safely)."""
        writes: list[ExternalWrite] = []
        for chunk in _chunks(records):
            body = await self._request(
                "POST",
                [base, table],
                operation="create_records",
                json={"records": [{"fields": dict(f)} for f in chunk], "typecast": typecast},
                sent=chunk,
            )
            writes += [self._write(base, table, None, r) for r in _records(body, "create_records")]
        return writes

    async def update_records(
        self,
        base: str,
        table: str,
        updates: Sequence[RecordUpdate],
        *,
        typecast: bool = False,
        replace: bool = False,
    ) -> list[ExternalWrite]:
        """Update existing records; ``replace`` (PUT) clears every field not given."""
        writes: list[ExternalWrite] = []
        for chunk in _chunks(updates):
            before = await self._by_id(base, table, [u.id for u in chunk], "update_records")
            body = await self._request(
                "PUT" if replace else "PATCH",
                [base, table],
                operation="update_records",
                json={
                    "records": [{"id": u.id, "fields": u.fields} for u in chunk],
                    "typecast": typecast,
                },
                sent=[u.fields for u in chunk],
            )
            answered = _records(body, "update_records")
            writes += [self._write(base, table, before.get(r.id), r) for r in answered]
        return writes

    async def upsert_records(
        self,
        base: str,
        table: str,
        records: Sequence[Fields],
        merge_on: list[str],
        *,
        typecast: bool = False,
    ) -> UpsertResult:
        """Create or update records matched on the ``merge_on`` fields (1 to 3).

        Before-images are read first with a formula on the merge fields; the write is
        Airtable's ``performUpsert``, so a repeat never creates a second record.
        """
        if not 1 <= len(merge_on) <= MAX_MERGE_FIELDS:
            raise ValidationError(
                f"merge_on needs 1 to {MAX_MERGE_FIELDS} field names, got {merge_on!r}",
                tool="airtable",
                operation="upsert_records",
            )
        writes: list[ExternalWrite] = []
        created: list[str] = []
        updated: list[str] = []
        for chunk in _chunks(records):
            before = await self._matches(base, table, chunk, merge_on)

            async def landed(
                chunk: Sequence[Fields] = chunk, before: dict[str, Record] = before
            ) -> dict[str, Any] | None:
                # A lost answer may hide an upsert that created records: they are ours.
                now = await self._matches(base, table, chunk, merge_on)
                new = [rid for rid in now if rid not in before]
                if not new:
                    return None  # nothing created: repeating the upsert is safe
                return {
                    "records": [r.image() for r in now.values()],
                    "createdRecords": new,
                    "updatedRecords": [rid for rid in now if rid in before],
                }

            body = await self._request(
                "PATCH",
                [base, table],
                operation="upsert_records",
                json={
                    "performUpsert": {"fieldsToMergeOn": merge_on},
                    "records": [{"fields": dict(f)} for f in chunk],
                    "typecast": typecast,
                },
                sent=chunk,
                reconcile=landed,
            )
            answered = _records(body, "upsert_records")
            chunk_updated = set(body.get("updatedRecords", []))
            writes += [
                self._write(base, table, before.get(r.id), r, updated=r.id in chunk_updated)
                for r in answered
            ]
            created += body.get("createdRecords", [])
            updated += body.get("updatedRecords", [])
        return UpsertResult(writes=writes, created_ids=created, updated_ids=updated)

    async def delete_records(
        self, base: str, table: str, record_ids: Sequence[str]
    ) -> list[ExternalWrite]:
        """Delete records; each write's before-image is the record as it was."""
        writes: list[ExternalWrite] = []
        for chunk in _chunks(record_ids):
            before = await self._by_id(base, table, chunk, "delete_records")
            await self._request(
                "DELETE", [base, table], operation="delete_records", params={"records[]": chunk}
            )
            writes += [
                ExternalWrite(
                    tool="airtable",
                    kind="record",
                    container=f"{base}/{table}",
                    object_id=record_id,
                    action="deleted",
                    before=before[record_id].image() if record_id in before else None,
                    after=None,
                )
                for record_id in chunk
            ]
        return writes

    # --- helpers ------------------------------------------------------------------

    async def _by_id(
        self, base: str, table: str, record_ids: Sequence[str], operation: str
    ) -> dict[str, Record]:
        formula = "OR(" + ", ".join(f"RECORD_ID()={formula_value(i)}" for i in record_ids) + ")"
        records = await self._collect(base, table, formula, operation)
        return {r.id: r for r in records}

    async def _matches(
        self, base: str, table: str, chunk: Sequence[Fields], merge_on: list[str]
    ) -> dict[str, Record]:
        """The existing records an upsert of ``chunk`` will match, by record id."""
        terms = [
            "AND(" + ", ".join(f"{field_ref(k)}={formula_value(f[k])}" for k in merge_on) + ")"
            for f in chunk
            if all(k in f for k in merge_on)
        ]
        if not terms:
            return {}
        records = await self._collect(base, table, "OR(" + ", ".join(terms) + ")", "upsert_records")
        return {r.id: r for r in records}

    async def _collect(self, base: str, table: str, formula: str, operation: str) -> list[Record]:
        records: list[Record] = []
        params: dict[str, Any] = {"pageSize": MAX_PAGE_SIZE, "filterByFormula": formula}
        while True:
            body = await self._list_page(base, table, params, operation=operation)
            page = _decode(RecordPage, body, operation)
            records += page.records
            if not page.offset:
                return records
            params = {**params, "offset": page.offset}

    async def _list_page(
        self, base: str, table: str, params: dict[str, Any], *, operation: str = "list_records"
    ) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        url = httpx.URL(self._url([base, table]), params=params)
        if len(str(url)) <= MAX_URL_LENGTH:
            return await self._request("GET", [base, table], operation=operation, params=params)
        body = {("fields" if k == "fields[]" else k): v for k, v in params.items()}
        return await self._request(
            "POST", [base, table, "listRecords"], operation=operation, json=body
        )

    async def _request(
        self,
        method: str,
        path: Sequence[str],
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        sent: Iterable[Fields] = (),
        reconcile: Callable[[], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> dict[str, Any]:
        """One call, retried inside the attempt when repeating it is safe: every method but
        a POST that creates (a ``listRecords`` POST is a read) and a DELETE (a repeat of a
        delete that landed is refused). With ``reconcile``, an answer that may hide a
        landed write is first checked by reading back (see :mod:`connectors.retry`)."""
        sent = list(sent)
        idempotent = method in ("GET", "PATCH", "PUT") or path[-1] == "listRecords"
        if reconcile is not None:
            idempotent = False

        async def once() -> dict[str, Any]:
            return await self._request_once(
                method, path, operation=operation, params=params, json=json, sent=sent
            )

        return await retrying(
            once,
            tool="airtable",
            operation=operation,
            idempotent=idempotent,
            reconcile=reconcile,
            policy=self._retry,
        )

    async def _request_once(
        self,
        method: str,
        path: Sequence[str],
        *,
        operation: str,
        params: Mapping[str, Any] | None,
        json: Any,
        sent: Iterable[Fields],
    ) -> dict[str, Any]:
        # No token means no header at all (an empty "Bearer " is not a valid header).
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        request = self._http.build_request(
            method, self._url(path), params=params, json=json, headers=headers
        )
        response = await send(self._http, request, tool="airtable", operation=operation)
        if response.status_code >= 400:
            raise error_from_response(response, operation=operation, sent_fields=sent)
        body = parse_json(response, tool="airtable", operation=operation)
        if not isinstance(body, dict):
            raise MalformedResponseError(
                f"expected a JSON object, got {type(body).__name__}",
                tool="airtable",
                operation=operation,
                status=response.status_code,
            )
        return body

    def _url(self, path: Sequence[str]) -> str:
        return f"{self._base_url}/v0/" + "/".join(quote(part, safe="") for part in path)

    @staticmethod
    def _write(
        base: str, table: str, before: Record | None, after: Record, *, updated: bool = False
    ) -> ExternalWrite:
        """One record's write. ``updated`` is Airtable's word that the record existed.

        When Airtable updated a record our before-read did not find (``typecast`` turned
        a merge value into another spelling), the write says ``updated`` with no
        before-image, so that a rollback never deletes a record that was already there.
        """
        before_image = before.image() if before is not None else None
        after_image = after.image()
        action = write_action(before_image, after_image)
        return ExternalWrite(
            tool="airtable",
            kind="record",
            container=f"{base}/{table}",
            object_id=after.id,
            action="updated" if updated and before_image is None else action,
            before=before_image,
            after=after_image,
        )


def field_ref(name: str) -> str:
    """``{Field Name}`` for a formula, with ``}`` escaped as Airtable wants."""
    return "{" + name.replace("}", "\\}") + "}"


def formula_value(value: Any) -> str:
    """A Python value as an Airtable formula literal (the way pyairtable writes them)."""
    if value is None:
        return "BLANK()"
    if isinstance(value, bool):
        return "TRUE()" if value else "FALSE()"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _records(body: dict[str, Any], operation: str) -> list[Record]:
    return [_decode(Record, r, operation) for r in body.get("records", [])]


def _decode(model: type[_M], data: Any, operation: str) -> _M:
    """``data`` as ``model``; a 2xx answer of the wrong shape is a malformed response."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedResponseError(
            f"Airtable's answer is not a {model.__name__}: {exc.errors()[0]['msg']}",
            tool="airtable",
            operation=operation,
        ) from exc


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [
        items[i : i + MAX_RECORDS_PER_WRITE] for i in range(0, len(items), MAX_RECORDS_PER_WRITE)
    ]
