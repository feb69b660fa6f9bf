"""`structural_diff` reports exactly what DeepDiff reports, on the fast path.

The property tests draw random JSON pairs, most of them made by mutating one value in a
few places, and compare with `DeepDiff(a, b)` under the same options; they also check
that the fast path really ran, or they would prove nothing. The example tests pin the
DeepDiff semantics that make naive pruning wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.diff import build_payloads, write_docs
from tracer import diff_walk
from tracer.diff import DiffResult, DiffRow, structural_diff

Json = Any
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAN = float("nan")
# Few distinct scalars, so that equal-looking pairs of different types (1, 1.0, True)
# and low or high key overlaps come up often.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, -0.0, 1.0, 1.5, 2.0, math.inf, NAN]),
    st.text(alphabet="ab'\"\\é東", max_size=3),
)
keys = st.text(alphabet="ab_'\"", max_size=3)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=25,
)
small_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children)),
    max_leaves=4,
)


def _containers(value: Json) -> list[Json]:
    """Every dict and list inside `value`, itself included."""
    found: list[Json] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            found.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return found


def _paths(value: Json, prefix: str = "root") -> list[str]:
    """Every path in `value`, written as DeepDiff writes it (plain keys only)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            if "'" not in key and '"' not in key:
                found.extend(_paths(child, f"{prefix}['{key}']"))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, f"{prefix}[{index}]"))
    return found


def _mutate_once(data: st.DataObject, value: Json) -> Json:
    """Apply one random edit somewhere inside `value` (in place when possible)."""
    containers = _containers(value)
    if not containers:
        return data.draw(scalars)
    node = data.draw(st.sampled_from(containers))
    if isinstance(node, dict):
        _mutate_dict(data, node)
    else:
        _mutate_list(data, node)
    return value


def _retyped(leaf: Json) -> Json:
    """A value that DeepDiff sees as a type change, often one that == hides."""
    if isinstance(leaf, bool):
        return int(leaf)
    if isinstance(leaf, int):
        return float(leaf)
    if isinstance(leaf, float):
        return int(leaf) if leaf.is_integer() else str(leaf)
    return [leaf]


def _mutate_dict(data: st.DataObject, node: dict[str, Json]) -> None:
    edit = data.draw(st.sampled_from(["set", "retype", "add", "remove", "replace"]))
    key = data.draw(st.sampled_from(sorted(node))) if node else None
    if edit == "set" and key is not None:
        node[key] = data.draw(json_values)
    elif edit == "retype" and key is not None:
        node[key] = _retyped(node[key])
    elif edit == "remove" and key is not None:
        del node[key]
    elif edit == "replace":
        # Low key overlap: DeepDiff reports such a dict whole.
        fresh = data.draw(st.dictionaries(keys, scalars, min_size=1, max_size=4))
        node.clear()
        node.update(fresh)
    else:
        node[data.draw(keys)] = data.draw(json_values)


def _mutate_list(data: st.DataObject, node: list[Json]) -> None:
    edit = data.draw(st.sampled_from(["set", "retype", "append", "pop", "insert"]))
    index = data.draw(st.integers(0, len(node) - 1)) if node else None
    if edit == "set" and index is not None:
        node[index] = data.draw(json_values)
    elif edit == "retype" and index is not None:
        node[index] = _retyped(node[index])
    elif edit == "pop" and index is not None:
        node.pop(index)
    elif edit == "insert":
        node.insert(data.draw(st.integers(0, len(node))), data.draw(json_values))
    else:
        node.append(data.draw(json_values))


@st.composite
def json_pairs(draw: st.DrawFn) -> tuple[Json, Json]:
    """A random value and either an unrelated value or a copy edited in 1-4 places.

    Now and then the value is a list longer than one chunk of the walk (64 items).
    """
    base: Json
    if draw(st.integers(0, 9)) == 0:
        base = draw(st.lists(small_values, min_size=65, max_size=70))
    else:
        base = draw(json_values)
    if draw(st.integers(0, 4)) == 0:
        return base, draw(json_values)
    data = draw(st.data())
    # Parse from text, as payloads are: no object is shared between the two sides.
    edited = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 4))):
        edited = _mutate_once(data, edited)
    return base, edited


@contextmanager
def walk_tuning(*, chunk: int, narrow: int) -> Iterator[None]:
    """Run the walk with other chunk sizes, so that small values take every path.

    The defaults (64 siblings a chunk, 4 or fewer siblings unchecked) would leave the
    chunked comparison untried on most drawn values.
    """
    saved = diff_walk._CHUNK, diff_walk._NARROW
    diff_walk._CHUNK, diff_walk._NARROW = chunk, narrow
    try:
        yield
    finally:
        diff_walk._CHUNK, diff_walk._NARROW = saved


tunings = st.sampled_from([(64, 4), (2, 0), (1, 1), (3, 100)])


def _row_key(row: DiffRow) -> tuple[str, str]:
    return row["kind"], row["path"]


def assert_same_as_deepdiff(t1: Json, t2: Json, **options: Any) -> DiffResult:
    """The fast path ran, its report is DeepDiff's, and its rows are DeepDiff's tree."""
    theirs = DeepDiff(t1, t2, **options).to_dict()
    ours = structural_diff(t1, t2, **options)
    assert ours.fast_path
    assert ours.to_dict() == theirs
    # view="tree" is not on the fast path: these rows come straight from DeepDiff's tree.
    slow = structural_diff(t1, t2, **options, view="tree")
    assert not slow.fast_path
    assert sorted(ours.rows(), key=_row_key) == sorted(slow.rows(), key=_row_key)
    return ours


# --- properties -----------------------------------------------------------------------


@PROPERTY
@given(json_pairs(), tunings)
def test_reports_what_deepdiff_reports(pair: tuple[Json, Json], tuning: tuple[int, int]) -> None:
    chunk, narrow = tuning
    with walk_tuning(chunk=chunk, narrow=narrow):
        assert_same_as_deepdiff(*pair)


@PROPERTY
@given(json_pairs(), tunings, st.data())
def test_supported_options_keep_deepdiffs_answer(
    pair: tuple[Json, Json], tuning: tuple[int, int], data: st.DataObject
) -> None:
    t1, t2 = pair
    candidates = sorted(set(_paths(t1)) | set(_paths(t2)))
    options: dict[str, Any] = {
        "exclude_paths": data.draw(st.lists(st.sampled_from(candidates), max_size=3)),
        "threshold_to_diff_deeper": data.draw(st.sampled_from([0, 0.33, 0.6, 1])),
        "verbose_level": data.draw(st.sampled_from([0, 1, 2])),
        "ignore_private_variables": data.draw(st.booleans()),
    }
    if data.draw(st.booleans()):
        # Not 0: DeepDiff 9.1 then crashes on NaN and infinity (int(nan) in number_to_string).
        options["significant_digits"] = data.draw(st.sampled_from([1, 3]))
        options["number_format_notation"] = data.draw(st.sampled_from(["f", "e"]))
    if data.draw(st.booleans()):
        options["math_epsilon"] = data.draw(st.sampled_from([0.1, 1.0]))
    if data.draw(st.booleans()):
        options["ignore_nan_inequality"] = True
    chunk, narrow = tuning
    with walk_tuning(chunk=chunk, narrow=narrow):
        assert_same_as_deepdiff(t1, t2, **options)


# --- the semantics that make naive pruning wrong --------------------------------------


def _records(count: int) -> list[dict[str, Json]]:
    return [
        {"id": f"rec{i}", "fields": {"Name": f"n{i}", "Estimate": i % 5, "Tags": ["a", "b"]}}
        for i in range(count)
    ]


def _pair(edit: Any, count: int = 50) -> tuple[Json, Json]:
    """Records built in Python, and a copy parsed from JSON (as stored) then edited."""
    t1 = {"records": _records(count), "offset": None}
    t2 = json.loads(json.dumps(t1))
    edit(t2)
    return t1, t2


def test_int_equal_to_float_is_a_type_change() -> None:
    def edit(t2: Json) -> None:
        t2["records"][7]["fields"]["Estimate"] = 2.0

    t1, t2 = _pair(edit)
    assert t1 == t2  # what Python's == says; DeepDiff disagrees
    ours = assert_same_as_deepdiff(t1, t2)
    assert ours.rows() == [
        {
            "path": "root['records'][7]['fields']['Estimate']",
            "path_list": ["records", 7, "fields", "Estimate"],
            "kind": "type_changes",
            "old": 2,
            "new": 2.0,
        }
    ]


def test_bool_equal_to_int_is_a_type_change() -> None:
    t1 = {"a": [{"done": 1}, {"done": 0}], "b": True}
    t2 = {"a": [{"done": True}, {"done": 0}], "b": 1}
    ours = assert_same_as_deepdiff(t1, t2)
    assert set(ours.to_dict()["type_changes"]) == {"root['a'][0]['done']", "root['b']"}


def test_nan_is_unequal_to_another_nan_but_not_to_itself() -> None:
    shared = NAN
    assert_same_as_deepdiff({"x": [float("nan")]}, {"x": [float("nan")]})
    assert not structural_diff({"x": [shared]}, {"x": [shared]})
    assert structural_diff({"x": [float("nan")]}, {"x": [float("nan")]}).to_dict()


def test_negative_zero_is_no_change() -> None:
    assert not assert_same_as_deepdiff({"x": [{"v": 0.0}]}, {"x": [{"v": -0.0}]})


def test_list_of_records_pairs_by_index_and_reports_the_tail() -> None:
    def edit(t2: Json) -> None:
        del t2["records"][10]

    ours = assert_same_as_deepdiff(*_pair(edit))
    # Pairing by index: every record after the removed one looks changed.
    assert "root['records'][49]" in ours.to_dict()["iterable_item_removed"]


def test_list_of_records_grows() -> None:
    def edit(t2: Json) -> None:
        t2["records"].extend(_records(2))

    ours = assert_same_as_deepdiff(*_pair(edit))
    assert set(ours.to_dict()["iterable_item_added"]) == {
        "root['records'][50]",
        "root['records'][51]",
    }


def test_list_of_scalars_is_diffed_by_difflib() -> None:
    def edit(t2: Json) -> None:
        t2["records"][3]["fields"]["Tags"] = ["z", "a", "b", "c"]

    ours = assert_same_as_deepdiff(*_pair(edit))
    assert ours.to_dict()["iterable_item_added"] == {
        "root['records'][3]['fields']['Tags'][0]": "z",
        "root['records'][3]['fields']['Tags'][3]": "c",
    }


def test_dict_with_little_key_overlap_is_reported_whole() -> None:
    def edit(t2: Json) -> None:
        t2["records"][4]["fields"] = {"Name": "n4", "Size": 1, "Owner": "x", "Due": None}

    ours = assert_same_as_deepdiff(*_pair(edit))
    assert list(ours.to_dict()) == ["values_changed"]
    assert list(ours.to_dict()["values_changed"]) == ["root['records'][4]['fields']"]


def test_pruned_identical_children_still_count_towards_the_overlap() -> None:
    # Two of three keys are shared and identical: overlap 2/4 is above 0.33, so
    # DeepDiff goes key by key although only the changed keys are visited.
    t1 = {"a": {"x": 1, "y": [1, 2], "old": 3}}
    t2 = {"a": {"x": 1, "y": [1, 2], "new": 3}}
    ours = assert_same_as_deepdiff(t1, t2)
    assert set(ours.to_dict()) == {"dictionary_item_added", "dictionary_item_removed"}


def test_exclusions_change_the_overlap_as_deepdiff_counts_it() -> None:
    t1 = {"a": {"k": 1, "gone": 1, "also": 2}}
    t2 = {"a": {"k": 2, "new": 1, "more": 2}}
    for excluded in ([], ["root['a']['gone']"], ["root['a']['gone']", "root['a']['also']"]):
        assert_same_as_deepdiff(t1, t2, exclude_paths=excluded)


def test_exclude_paths_exact_and_bare_root_keys() -> None:
    def edit(t2: Json) -> None:
        t2["offset"] = "itr1"
        t2["records"][1]["fields"]["Name"] = "changed"
        t2["records"][2]["fields"]["Name"] = "changed"

    t1, t2 = _pair(edit)
    ours = assert_same_as_deepdiff(t1, t2, exclude_paths=["offset", "root['records'][1]"])
    assert list(ours.to_dict()["values_changed"]) == ["root['records'][2]['fields']['Name']"]


def test_private_keys_are_ignored_by_default() -> None:
    assert not assert_same_as_deepdiff({"__v": 1, "a": {"__w": 1}}, {"__v": 2, "a": {"__w": 2}})
    assert assert_same_as_deepdiff({"__v": 1}, {"__v": 2}, ignore_private_variables=False)


def test_significant_digits() -> None:
    def edit(t2: Json) -> None:
        t2["records"][0]["fields"]["Score"] = 1.0001
        t2["records"][1]["fields"]["Score"] = 1.2

    t1, t2 = _pair(edit)
    t1["records"][0]["fields"]["Score"] = 1.0
    t1["records"][1]["fields"]["Score"] = 1.0
    ours = assert_same_as_deepdiff(t1, t2, significant_digits=2)
    assert list(ours.to_dict()["values_changed"]) == ["root['records'][1]['fields']['Score']"]


def test_verbose_level_two_reports_added_values() -> None:
    def edit(t2: Json) -> None:
        t2["records"][5]["fields"]["New"] = {"deep": [1]}

    ours = assert_same_as_deepdiff(*_pair(edit), verbose_level=2)
    assert ours.to_dict()["dictionary_item_added"] == {
        "root['records'][5]['fields']['New']": {"deep": [1]}
    }


def test_keys_with_quotes_are_written_as_deepdiff_writes_them() -> None:
    t1 = {"it's": {'say "hi"': 1, "both'\"": 1, "back\\slash": 1}}
    t2 = {"it's": {'say "hi"': 2, "both'\"": 2, "back\\slash": 2}}
    assert_same_as_deepdiff(t1, t2)


def test_ignore_order_falls_back_to_deepdiff() -> None:
    t1 = {"items": [{"id": 1}, {"id": 2}]}
    t2 = {"items": [{"id": 2}, {"id": 1}, {"id": 3}]}
    ours = structural_diff(t1, t2, ignore_order=True)
    assert not ours.fast_path
    assert ours.to_dict() == DeepDiff(t1, t2, ignore_order=True).to_dict()


def test_glob_exclusions_fall_back_to_deepdiff() -> None:
    t1 = {"users": [{"password": "a", "name": "x"}]}
    t2 = {"users": [{"password": "b", "name": "y"}]}
    exclude = ["root['users'][*]['password']"]
    ours = structural_diff(t1, t2, exclude_paths=exclude)
    assert not ours.fast_path
    assert ours.to_dict() == DeepDiff(t1, t2, exclude_paths=exclude).to_dict()


def test_values_that_are_not_json_still_get_deepdiffs_answer() -> None:
    class Thing:
        def __init__(self, size: int) -> None:
            self.size = size

    t1 = {"a": (1, 2), "b": Thing(1), "c": {1: "x"}}
    t2 = {"a": (1, 3), "b": Thing(2), "c": {1: "y"}}
    assert structural_diff(t1, t2).to_dict() == DeepDiff(t1, t2).to_dict()


def test_invalid_options_raise_as_deepdiff_does() -> None:
    with pytest.raises(ValueError, match="not valid"):
        structural_diff({}, {}, no_such_option=True)
    with pytest.raises(ValueError, match="verbose_level"):
        structural_diff({}, {}, verbose_level=7)


def test_identical_payloads_have_no_changes() -> None:
    t1, t2 = _pair(lambda t2: None)
    ours = structural_diff(t1, t2)
    assert not ours
    assert ours.to_dict() == {}
    assert ours.rows() == []
    assert not structural_diff(t1, t1)


def test_rows_say_which_side_is_absent() -> None:
    ours = structural_diff(
        {"a": None, "b": [1]}, {"c": None, "b": [1, None]}, threshold_to_diff_deeper=0
    )
    rows = [
        (row["kind"], row["path"], row["path_list"], row["old"], row["new"]) for row in ours.rows()
    ]
    assert sorted(rows) == [
        ("dictionary_item_added", "root['c']", ["c"], None, None),
        ("dictionary_item_removed", "root['a']", ["a"], None, None),
        ("iterable_item_added", "root['b'][1]", ["b", 1], None, None),
    ]


def test_rows_are_copies() -> None:
    ours = structural_diff({"a": [{"b": 1}]}, {"a": [{"b": 2}]})
    ours.rows()[0]["path_list"].append("x")
    assert ours.rows()[0]["path_list"] == ["a", 0, "b"]


# --- the benchmark's own claims, without timing anything --------------------------------


def test_benchmark_payloads_have_few_changes_that_deepdiff_agrees_on() -> None:
    t1, t2, size = build_payloads(target_bytes=30_000)
    assert size >= 30_000
    ours = assert_same_as_deepdiff(t1, t2)
    assert 1 <= len(ours.rows()) <= 10


def test_benchmark_docs_section_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Structural diff\n\nold\n\n## Tracing overhead\n\nkept\n")
    result: dict[str, object] = {
        "ms": 1.0,
        "deepdiff_ms": 100.0,
        "speedup": 100.0,
        "same_changes": True,
        "changes": 9,
        "payload_bytes": 1_000_000,
        "records": 1500,
        "repeat": 5,
        "budget_met": True,
        "load_average": "0.1",
    }
    write_docs(result, "python -m bench.diff --write-docs", docs)
    text = docs.read_text()
    assert "old" not in text
    assert text.count("## Structural diff") == 1
    assert "## Tracing overhead\n\nkept" in text
    assert "python -m bench.diff --write-docs" in text
    write_docs(result, "cmd", tmp_path / "new.md")
    assert (tmp_path / "new.md").read_text().startswith("# Benchmarks\n\n## Structural diff")
