"""The emulator's wire format, read with plain HTTP: what a real Airtable client sees."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from connectors.airtable.client import AirtableClient, field_ref, formula_value
from connectors.sandbox.server import Sandbox

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def url(sandbox: Sandbox, base_id: str) -> str:
    return f"{sandbox.urls['airtable']}/v0/{base_id}"


async def get(http: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await http.get(url, params=params, headers=AUTH)
    return response.status_code, response.json()


async def test_missing_token_body(http: httpx.AsyncClient, url: str) -> None:
    response = await http.get(f"{url}/Intake")

    assert response.status_code == 401
    assert response.json() == {
        "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
    }


async def test_cell_format_string_and_field_ids(http: httpx.AsyncClient, url: str) -> None:
    await http.post(
        f"{url}/Issues",
        json={"fields": {"Linear ID": "ENG-1", "Labels": ["bug", "infra"]}},
        headers=AUTH,
    )
    _, as_string = await get(
        http, f"{url}/Issues", cellFormat="string", timeZone="UTC", userLocale="en"
    )
    _, by_id = await get(http, f"{url}/Issues", returnFieldsByFieldId="true")

    assert as_string["records"][0]["fields"]["Labels"] == "bug, infra"
    assert all(key.startswith("fld") for key in by_id["records"][0]["fields"])


async def test_sort_and_fields(http: httpx.AsyncClient, url: str) -> None:
    status, body = await get(
        http,
        f"{url}/Intake",
        **{"sort[0][field]": "Reporter", "sort[0][direction]": "desc", "fields[]": "Reporter"},
    )
    reporters = [r["fields"]["Reporter"] for r in body["records"]]

    assert status == 200
    assert reporters == sorted(reporters, reverse=True)
    assert all(set(r["fields"]) == {"Reporter"} for r in body["records"])


async def test_unknown_field_in_fields_param(http: httpx.AsyncClient, url: str) -> None:
    status, body = await get(http, f"{url}/Intake", **{"fields[]": "Severity"})

    assert status == 422
    assert body["error"] == {
        "type": "UNKNOWN_FIELD_NAME",
        "message": 'Unknown field name: "Severity"',
    }


async def test_list_records_by_post(http: httpx.AsyncClient, url: str) -> None:
    response = await http.post(
        f"{url}/Intake/listRecords",
        json={"filterByFormula": "{Status}='New'", "pageSize": 2, "fields": ["Status"]},
        headers=AUTH,
    )

    assert response.status_code == 200
    assert len(response.json()["records"]) <= 2
    assert {r["fields"]["Status"] for r in response.json()["records"]} <= {"New"}


async def test_client_switches_to_post_for_long_formulas(
    client: AirtableClient, base_id: str, sandbox: Sandbox
) -> None:
    wanted = [r.id for r in await client.all_records(base_id, "Intake")][:3]
    noise = [f"recNoSuchRecord{n:05d}" for n in range(700)]
    formula = "OR(" + ", ".join(f"RECORD_ID()='{i}'" for i in noise + wanted) + ")"

    found = await client.all_records(base_id, "Intake", formula=formula)

    assert sorted(r.id for r in found) == sorted(wanted)
    assert sandbox.journal.list("airtable")[-1].path.endswith("/Intake/listRecords")


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("AND({Status}='Filed', NOT({Linear Issue}=''))", "filed"),
        ("OR({Status}='Filed', {Status}=\"Filed\")", "filed"),
        ("LOWER({Status}) = 'filed'", "filed"),
        ("{Title} = BLANK()", "untitled"),
        ("IF({Status}='Filed', TRUE(), FALSE())", "filed"),
        ("FIND('Filed', {Status}) > 0", "filed"),
        ("LEN({Title}) >= 0", "all"),
    ],
)
async def test_formulas(client: AirtableClient, base_id: str, formula: str, expected: str) -> None:
    everything = await client.all_records(base_id, "Intake")
    groups = {
        "filed": {r.id for r in everything if r.fields.get("Status") == "Filed"},
        "untitled": {r.id for r in everything if "Title" not in r.fields},
        "all": {r.id for r in everything},
    }

    found = await client.all_records(base_id, "Intake", formula=formula)

    assert {r.id for r in found} == groups[expected]


@pytest.mark.parametrize("formula", ["NOPE({Status})", "{Status} = ", "AND({Status}='x'"])
async def test_bad_formula(http: httpx.AsyncClient, url: str, formula: str) -> None:
    status, body = await get(http, f"{url}/Intake", filterByFormula=formula)

    assert status == 422
    assert body["error"]["type"] == "INVALID_FILTER_BY_FORMULA"


@pytest.mark.parametrize(
    "value",
    ["it's", 'say "hi"', "back\\slash", "brace } {", "Zoë 🇨🇭", "line\nbreak", "ENG-1"],
)
async def test_merge_values_survive_formula_quoting(
    client: AirtableClient, base_id: str, value: str
) -> None:
    await client.upsert_records(base_id, "Issues", [{"Linear ID": value}], ["Linear ID"])
    again = await client.upsert_records(base_id, "Issues", [{"Linear ID": value}], ["Linear ID"])
    found = await client.all_records(
        base_id, "Issues", formula=f"{field_ref('Linear ID')} = {formula_value(value)}"
    )

    assert [w.action for w in again.writes] == ["unchanged"]
    assert [r.fields["Linear ID"] for r in found] == [value]


async def test_table_by_id_and_url_encoded_name(
    client: AirtableClient, http: httpx.AsyncClient, url: str, base_id: str
) -> None:
    schema = await client.get_table_schema(base_id, "Intake")
    by_id = await client.all_records(base_id, schema.id)
    status, body = await get(http, f"{url}/{quote('Intake', safe='')}")

    assert len(by_id) == 12
    assert status == 200
    assert [r["id"] for r in body["records"]] == [r.id for r in by_id]


async def test_single_record_routes(http: httpx.AsyncClient, url: str) -> None:
    created = (
        await http.post(f"{url}/Issues", json={"fields": {"Linear ID": "ENG-7"}}, headers=AUTH)
    ).json()
    patched = await http.patch(
        f"{url}/Issues/{created['id']}", json={"fields": {"Title": "x"}}, headers=AUTH
    )
    replaced = await http.put(
        f"{url}/Issues/{created['id']}", json={"fields": {"Title": "y"}}, headers=AUTH
    )
    deleted = await http.delete(f"{url}/Issues/{created['id']}", headers=AUTH)
    gone = await http.get(f"{url}/Issues/{created['id']}", headers=AUTH)

    assert created["id"].startswith("rec")
    assert patched.json()["fields"]["Linear ID"] == "ENG-7"
    assert "Linear ID" not in replaced.json()["fields"]
    assert deleted.json() == {"id": created["id"], "deleted": True}
    assert (gone.status_code, gone.json()) == (404, {"error": "NOT_FOUND"})


async def test_nan_in_body_is_invalid_request_body(http: httpx.AsyncClient, url: str) -> None:
    response = await http.post(
        f"{url}/Digests",
        content=b'{"fields": {"Total": NaN}}',
        headers={**AUTH, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_REQUEST_BODY"


def test_snapshot_shows_stored_records(sandbox: Sandbox, base_id: str) -> None:
    state = sandbox.state("airtable")

    [base] = state["bases"]
    tables = {t["name"]: t for t in base["tables"]}
    assert base["id"] == base_id
    assert len(tables["Intake"]["records"]) == 12
    assert tables["Issues"]["records"] == []
