"""The emulator's formula interpreter agrees with how clients quote values.

Pure tests (no server): whatever text a merge field holds, the formula our client and
pyairtable write for it finds exactly that value.
"""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st
from pyairtable.formulas import match

from connectors.airtable.client import field_ref, formula_value
from connectors.airtable.emulator_formula import Row, compile_formula, truthy

NAMES = {"Linear ID", "Total", "Done", "Due"}
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)


@given(value=texts, other=texts)
def test_our_quoting_round_trips(value: str, other: str) -> None:
    formula = compile_formula(f"{field_ref('Linear ID')} = {formula_value(value)}", NAMES)

    assert truthy(formula(Row("rec1", {"Linear ID": value})))
    assert truthy(formula(Row("rec1", {"Linear ID": other}))) == (other == value)


@given(value=texts)
def test_pyairtable_match_round_trips(value: str) -> None:
    formula = compile_formula(str(match({"Linear ID": value, "Total": 3, "Done": True})), NAMES)

    assert truthy(formula(Row("rec1", {"Linear ID": value, "Total": 3, "Done": True})))
    assert not truthy(formula(Row("rec1", {"Linear ID": value, "Total": 4, "Done": True})))


def test_dates_as_pyairtable_sends_them() -> None:
    formula = compile_formula(str(match({"Due": datetime.date(2026, 12, 1)})), NAMES)

    assert truthy(formula(Row("rec1", {"Due": "2026-12-01"})))
    assert not truthy(formula(Row("rec1", {"Due": "2026-12-02"})))


def test_blank_compares_equal_to_empty_text() -> None:
    formula = compile_formula("AND({Linear ID} = '', {Total} = BLANK(), NOT({Done}))", NAMES)

    assert truthy(formula(Row("rec1", {})))
