"""Structural diff of JSON payloads: exactly DeepDiff's answer, fast on large payloads.

steptrace compares a step's output with the same step's output in the last good run
(DESIGN §5). Payloads reach megabytes and DeepDiff's defaults take seconds on them, while
nearly all of a payload is unchanged. `structural_diff` therefore walks both values
(`tracer.diff_walk`), drops every pair of subtrees that are *strictly* equal (same values
and same types, because DeepDiff reports `1` vs `1.0` as a type change), replays DeepDiff's
own container rules on the way down (dict key-overlap threshold, private keys, exclusions,
list pairing by index), and hands only the differing pieces to a single DeepDiff call
whose paths are then re-rooted. The report is DeepDiff's text view, so a caller gets what
`DeepDiff(t1, t2, **options)` reports; options the walk does not replay make it fall back
to a plain DeepDiff over the whole values: correctness first, speed second.

    structural_diff(t1, t2, **options) -> DiffResult
        .to_dict()   DeepDiff's text-view report (equal to DeepDiff(...).to_dict())
        .rows()      one flat DiffRow per change, for the diagnosis and the CLI
        .fast_path   False when the options forced the whole-value DeepDiff
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict

from deepdiff import DeepDiff
from deepdiff.helper import (
    SetOrdered,
    add_root_to_paths,
    convert_item_or_items_into_set_else_none,
    notpresent,
)
from deepdiff.model import FORCE_DEFAULT, TextResult

from tracer.diff_walk import Entry, Frontier, Walk, WalkRules

__all__ = ["DiffResult", "DiffRow", "structural_diff"]


class DiffRow(TypedDict):
    """One change, flat: what the diagnosis and the CLI print.

    `kind` is DeepDiff's report key (`values_changed`, `type_changes`,
    `dictionary_item_added`, `iterable_item_removed`, ...). A side that does not exist
    (the old side of an addition, the new side of a removal) is `None`: read `kind` to
    tell absence from a JSON null.
    """

    path: str
    path_list: list[str | int]
    kind: str
    old: Any
    new: Any


_DEFAULTS = inspect.signature(DeepDiff.__init__).parameters
# Options whose effect the walk replays exactly (or that only act on the leaves and
# subtrees handed to DeepDiff). Anything else means a whole-value DeepDiff.
_FAST_OPTIONS = frozenset(
    {
        "exclude_paths",
        "significant_digits",
        "number_format_notation",
        "math_epsilon",
        "threshold_to_diff_deeper",
        "verbose_level",
        "ignore_private_variables",
        "ignore_nan_inequality",
    }
)
# Options accepted on the fast path only at these values (their defaults).
_INERT_VALUES: Mapping[str, object] = {
    "ignore_order": False,
    "report_repetition": False,
    "zip_ordered_iterables": False,
    "view": "text",
}
# Report kinds the fast path can re-root; anything else (attributes of custom objects,
# sets, `unprocessed`) sends the whole comparison to DeepDiff.
_JSON_KINDS = frozenset(
    {
        "type_changes",
        "values_changed",
        "dictionary_item_added",
        "dictionary_item_removed",
        "iterable_item_added",
        "iterable_item_removed",
        "iterable_item_moved",
    }
)
_KIND_ORDER = {kind: index for index, kind in enumerate(TextResult())}


class DiffResult:
    """What changed between two payloads, in DeepDiff's text-view shape.

    `to_dict()` compares equal (`==`) to `DeepDiff(t1, t2, **options).to_dict()`: the same
    report keys, the same `root[...]` paths, the same old/new values. Python's `==` is the
    honest comparison: the order of entries inside one report key follows the walk and
    is not promised to match DeepDiff's insertion order.
    """

    __slots__ = ("_report", "_row_source", "_rows", "fast_path")

    def __init__(
        self,
        report: dict[str, Any],
        row_source: Callable[[], list[DiffRow]],
        *,
        fast_path: bool,
    ) -> None:
        self._report = report
        self._row_source = row_source
        self._rows: list[DiffRow] | None = None
        self.fast_path = fast_path

    def to_dict(self) -> dict[str, Any]:
        """DeepDiff's text-view report (a shallow copy: callers may not edit ours)."""
        return dict(self._report)

    def rows(self) -> list[DiffRow]:
        """Flat rows, grouped by kind in DeepDiff's report order, each kind in walk order."""
        if self._rows is None:
            self._rows = self._row_source()
        return [DiffRow(**{**row, "path_list": list(row["path_list"])}) for row in self._rows]

    def __bool__(self) -> bool:
        return bool(self._report)

    def __repr__(self) -> str:
        return f"DiffResult({self._report!r}, fast_path={self.fast_path})"


def structural_diff(t1: object, t2: object, **options: Any) -> DiffResult:
    """Diff two JSON-like values; report exactly what `DeepDiff(t1, t2, **options)` would.

    The fast path expects JSON-like values (dict with str keys, list, str, int, float,
    bool, None); other values still get DeepDiff's answer, only without the speed-up.
    `options` are DeepDiff's keyword arguments. `exclude_paths` (exact paths),
    `significant_digits`, `math_epsilon`, `threshold_to_diff_deeper`, `verbose_level`,
    `ignore_private_variables` and `ignore_nan_inequality` keep the fast path; any other
    option (`ignore_order=True`, glob or regex exclusions, `view='tree'`, ...) runs one
    plain DeepDiff over the whole values. Invalid options raise what DeepDiff raises.
    """
    excludes = _exact_excludes(options) if _fast_path_applies(options) else None
    if excludes is None:
        return _plain(t1, t2, options)
    rules = WalkRules(
        excludes=excludes,
        threshold=float(options.get("threshold_to_diff_deeper", _default("threshold"))),
        skip_private=bool(options.get("ignore_private_variables", _default("private"))),
    )
    walk = Walk(rules)
    if t1 is not t2:
        walk.node(t1, t2, "root", ())
    wrapped = _diff_frontiers(walk.frontiers, excludes, options)
    if not set(wrapped.tree) <= _JSON_KINDS:
        return _plain(t1, t2, options)
    verbose_level = int(options.get("verbose_level", _default("verbose")))
    report = _assemble(walk.entries, walk.frontiers, wrapped, verbose_level)
    return DiffResult(
        report,
        lambda: _rows_of_fast_path(walk.entries, walk.frontiers, wrapped),
        fast_path=True,
    )


def _default(name: str) -> object:
    """DeepDiff's own default for an option, read from its signature (follows upgrades)."""
    parameter = {
        "threshold": "threshold_to_diff_deeper",
        "private": "ignore_private_variables",
        "verbose": "verbose_level",
    }[name]
    return _DEFAULTS[parameter].default


def _fast_path_applies(options: Mapping[str, object]) -> bool:
    for name, value in options.items():
        if name in _FAST_OPTIONS:
            continue
        if name not in _INERT_VALUES or value != _INERT_VALUES[name]:
            return False
    return True


def _exact_excludes(options: Mapping[str, Any]) -> frozenset[str] | None:
    """`exclude_paths` normalized as DeepDiff does; None when they need the slow path.

    Glob patterns (`[*]`, `[**]`) match by shape, so re-rooting them is not exact:
    they (like anything that is not a string) send the diff to DeepDiff whole.
    """
    raw = options.get("exclude_paths")
    if raw is None:
        return frozenset()
    paths = convert_item_or_items_into_set_else_none(raw)
    if paths is None:
        return frozenset()
    if not all(isinstance(path, str) and "*" not in path for path in paths):
        return None
    return frozenset(add_root_to_paths(paths) or ())


def _plain(t1: object, t2: object, options: Mapping[str, Any]) -> DiffResult:
    """The whole-value DeepDiff, for options the walk does not replay."""
    diff = DeepDiff(t1, t2, **options)
    return DiffResult(
        diff.to_dict(),
        lambda: _sorted_rows(_tree_rows(diff.tree)),
        fast_path=False,
    )


def _diff_frontiers(
    frontiers: list[Frontier], excludes: frozenset[str], options: Mapping[str, Any]
) -> DeepDiff:
    """One DeepDiff over every differing piece, each under its own key of a wrapper dict.

    Every key of the wrapper is shared, so DeepDiff always descends into it, and each
    piece is compared exactly as at its real place, with paths `root['<n>']...` that
    `_reroot` maps back. One call instead of one per piece: a DeepDiff call costs ~0.2 ms.
    The call is made even with no pieces so that invalid options raise as DeepDiff's do.
    """
    left = {str(index): frontier.old for index, frontier in enumerate(frontiers)}
    right = {str(index): frontier.new for index, frontier in enumerate(frontiers)}
    wrapped_excludes = [
        f"root['{index}']{path[len(frontier.path) :]}"
        for path in excludes
        for index, frontier in enumerate(frontiers)
        if len(path) > len(frontier.path) and path.startswith(frontier.path)
    ]
    return DeepDiff(left, right, **{**options, "exclude_paths": wrapped_excludes or None})


def _reroot(path: str, frontiers: list[Frontier]) -> tuple[int, str]:
    """Map a wrapper path `root['<n>']rest` to (n, the real path)."""
    end = path.index("']", 6)
    index = int(path[6:end])
    return index, frontiers[index].path + path[end + 2 :]


def _assemble(
    entries: list[Entry], frontiers: list[Frontier], wrapped: DeepDiff, verbose_level: int
) -> dict[str, Any]:
    """Merge the walk's own reports with the re-rooted DeepDiff reports, in walk order."""
    merged: list[tuple[int, str, str, object]] = [
        (entry.seq, entry.kind, entry.path, entry.new if entry.old is notpresent else entry.old)
        for entry in entries
    ]
    for kind, container in wrapped.items():
        items: Iterable[tuple[str, object]] = (
            container.items() if isinstance(container, dict) else ((p, None) for p in container)
        )
        for wrapped_path, value in items:
            index, path = _reroot(wrapped_path, frontiers)
            merged.append((frontiers[index].seq, kind, path, _reroot_value(value, frontiers)))
    merged.sort(key=lambda item: item[0])
    report = TextResult(verbose_level=verbose_level)
    for _, kind, path, value in merged:
        container = report[kind]
        if isinstance(container, SetOrdered):
            container.add(path)
        else:
            container[path] = value
    report.remove_empty_keys()
    return dict(report)


def _reroot_value(value: object, frontiers: list[Frontier]) -> object:
    """Re-root the `new_path` that verbose reports carry inside their values."""
    if isinstance(value, dict) and isinstance(value.get("new_path"), str):
        value = type(value)(value)
        value["new_path"] = _reroot(value["new_path"], frontiers)[1]
    return value


def _rows_of_fast_path(
    entries: list[Entry], frontiers: list[Frontier], wrapped: DeepDiff
) -> list[DiffRow]:
    tagged = [
        (entry.seq, _row(entry.kind, entry.path, list(entry.path_list), entry.old, entry.new))
        for entry in entries
    ]
    for row in _tree_rows(wrapped.tree):
        index, row["path"] = _reroot(row["path"], frontiers)
        row["path_list"] = [*frontiers[index].path_list, *row["path_list"][1:]]
        tagged.append((frontiers[index].seq, row))
    tagged.sort(key=lambda item: item[0])
    return _sorted_rows(row for _, row in tagged)


def _tree_rows(tree: Mapping[str, Any]) -> list[DiffRow]:
    """Rows of DeepDiff's tree view, with paths written as its text view writes them."""
    return [
        _row(
            kind,
            level.path(force=FORCE_DEFAULT),
            list(level.path(output_format="list")),
            level.t1,
            level.t2,
        )
        for kind, levels in tree.items()
        if isinstance(levels, Iterable)
        for level in levels
    ]


def _row(kind: str, path: str, path_list: list[str | int], old: object, new: object) -> DiffRow:
    return DiffRow(
        path=path,
        path_list=path_list,
        kind=kind,
        old=None if old is notpresent else old,
        new=None if new is notpresent else new,
    )


def _sorted_rows(rows: Iterable[DiffRow]) -> list[DiffRow]:
    """Group by kind in DeepDiff's report order; `sorted` keeps walk order inside a kind."""
    return sorted(rows, key=lambda row: _KIND_ORDER.get(row["kind"], len(_KIND_ORDER)))
