"""Linear's connection arguments over in-memory nodes: ``filter``, ``orderBy``/``sort``,
``first``/``after``/``last``/``before`` and ``includeArchived``.

Nodes are the emulator's views (plain dicts, see :mod:`.emulator_defaults`). A filter is
Linear's filter input as a dict: field names map to a comparator (``{"eq": …}``,
``{"in": […]}``, ``{"lt": …}``, ``{"containsIgnoreCase": …}``, ``{"null": true}``…), to a
nested filter on a related object (``state: {type: {eq: "started"}}``), or, for a
to-many relation, to a collection filter (``labels: {some: {name: {eq: "Bug"}}}``,
``every``, ``none``, ``length``); ``and``/``or`` combine filters. Dates compare as ISO
strings; a duration such as ``-P2W`` is read relative to today, as Linear reads it.

Cursors are node ids (Linear's are opaque, so clients never look inside them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.linear.emulator_errors import invalid_input

Node = dict[str, Any]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$"
)
_SORTABLE = ("priority", "createdAt", "updatedAt", "dueDate", "title", "estimate")


@dataclass(frozen=True)
class Related:
    """A to-many field of a view: its nodes, listed lazily, selected with the field's args.

    ``show`` turns a selected node into what the response carries (an issue under the
    request's data faults); filters see the nodes as listed.
    """

    nodes: Callable[[], list[Node]]
    show: Callable[[Node], Node] | None = None

    def __call__(self, **args: Any) -> Node:
        return select(self.nodes(), args, self.show)


def select(
    nodes: list[Node], args: dict[str, Any], show: Callable[[Node], Node] | None = None
) -> Node:
    """One connection page of ``nodes`` under a connection field's arguments."""
    kept = [n for n in nodes if matches(n, args.get("filter"))]
    if not args.get("includeArchived"):
        kept = [n for n in kept if not n.get("archivedAt")]
    ordered = order(kept, args.get("orderBy"), args.get("sort"))
    return page(
        ordered,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
        show=show,
    )


def order(nodes: list[Node], order_by: str | None, sort: list[Node] | None) -> list[Node]:
    """``orderBy`` (createdAt, the default, or updatedAt), then any ``sort`` keys."""
    key = order_by if order_by in ("createdAt", "updatedAt") else "createdAt"
    result = sorted(nodes, key=lambda n: (str(n.get(key) or ""), n.get("number") or 0))
    for entry in reversed(sort or []):
        for field, how in entry.items():
            if field in _SORTABLE and how is not None:
                result = _sorted_by(result, field, how)
    return result


def _sorted_by(nodes: list[Node], field: str, how: Node) -> list[Node]:
    descending = how.get("order") == "Descending"
    nulls_first = how.get("nulls") == "first"
    present = [n for n in nodes if n.get(field) is not None]
    missing = [n for n in nodes if n.get(field) is None]
    if field == "priority":  # Linear sorts "No priority" (0) after Low (4)
        present = [n for n in present if n[field]]
        missing = [n for n in nodes if not n.get(field)]
    present.sort(key=lambda n: n[field], reverse=descending)
    return [*missing, *present] if nulls_first else [*present, *missing]


def page(
    nodes: list[Node],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    show: Callable[[Node], Node] | None = None,
) -> Node:
    """One page of ``nodes``: ``first`` after a cursor, or ``last`` before one."""
    ids = [node["id"] for node in nodes]
    start = _cursor_index(ids, after, "after") + 1 if after is not None else 0
    end = _cursor_index(ids, before, "before") if before is not None else len(nodes)
    window = nodes[start:end]
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    if first is not None:
        _check_size("first", first)
        chunk = window[:first]
        has_next, has_previous = len(window) > first or end < len(nodes), start > 0
    else:
        assert last is not None
        _check_size("last", last)
        chunk = window[len(window) - last :] if last else []
        has_next, has_previous = end < len(nodes), len(window) > last or start > 0
    shown = [show(n) for n in chunk] if show else chunk
    return connection(shown, has_next=has_next, has_previous=has_previous)


def connection(nodes: list[Node], *, has_next: bool, has_previous: bool = False) -> Node:
    """A Relay-style connection whose cursors are the nodes' ids."""
    return {
        "nodes": nodes,
        "edges": [{"node": n, "cursor": n["id"]} for n in nodes],
        "pageInfo": {
            "hasPreviousPage": has_previous,
            "hasNextPage": has_next,
            "startCursor": nodes[0]["id"] if nodes else None,
            "endCursor": nodes[-1]["id"] if nodes else None,
        },
    }


def _cursor_index(ids: list[str], cursor: str, name: str) -> int:
    if cursor not in ids:
        raise invalid_input(name, f"{name} is not a cursor of this connection")
    return ids.index(cursor)


def _check_size(name: str, size: int) -> None:
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise invalid_input(name, f"{name} must be between 0 and {MAX_PAGE_SIZE}")


# --- filters -----------------------------------------------------------------------


def matches(node: Node | None, condition: Node | None) -> bool:
    """Whether ``node`` passes a Linear filter (see the module docstring)."""
    if not condition:
        return True
    for key, test in condition.items():
        if test is None:
            continue
        if key == "and":
            ok = all(matches(node, c) for c in test)
        elif key == "or":
            ok = any(matches(node, c) for c in test)
        elif key == "null":
            ok = (node is None) == test
        else:
            ok = node is not None and _field_passes(node.get(key), test)
        if not ok:
            return False
    return True


def _field_passes(value: Any, test: Node) -> bool:
    if isinstance(value, Related):
        return _collection_passes(value.nodes(), test)
    if test.get("null") is not None and (value is None) != test["null"]:
        return False
    rest = {k: v for k, v in test.items() if k != "null" and v is not None}
    if not rest:
        return True
    if rest.keys() & _COMPARATORS.keys():
        return all(
            _COMPARATORS[op](value, _resolve(w)) for op, w in rest.items() if op in _COMPARATORS
        )
    return isinstance(value, dict) and matches(value, rest)


def _collection_passes(nodes: list[Node], test: Node) -> bool:
    for key, sub in test.items():
        if sub is None:
            continue
        if key == "some":
            ok = any(matches(n, sub) for n in nodes)
        elif key == "every":
            ok = all(matches(n, sub) for n in nodes)
        elif key == "none":
            ok = not any(matches(n, sub) for n in nodes)
        elif key == "length":
            ok = all(_COMPARATORS[op](len(nodes), w) for op, w in sub.items() if w is not None)
        elif key == "null":
            ok = (not nodes) == sub
        elif key == "and":
            ok = all(_collection_passes(nodes, c) for c in sub)
        elif key == "or":
            ok = any(_collection_passes(nodes, c) for c in sub)
        else:  # a field of the related nodes: some node must pass it
            ok = any(matches(n, {key: sub}) for n in nodes)
        if not ok:
            return False
    return True


def _resolve(wanted: Any) -> Any:
    """A relative duration (``-P2W``) as the date it names; anything else unchanged."""
    if not isinstance(wanted, str):
        return wanted
    match = _DURATION.match(wanted)
    if match is None or wanted in ("P", "-P"):
        return wanted
    days = int(match["y"] or 0) * 365 + int(match["m"] or 0) * 30
    days += int(match["w"] or 0) * 7 + int(match["d"] or 0)
    today = datetime.now(UTC).date()
    moment: date = today - timedelta(days=days) if match["sign"] else today + timedelta(days=days)
    return moment.isoformat()


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, wanted: Any) -> bool:
        if value is None or wanted is None:
            return False
        if isinstance(value, str) and isinstance(wanted, str):
            value = value[: len(wanted)] if len(wanted) == 10 else value  # a date vs a datetime
        try:
            return op(value, wanted)
        except TypeError:
            return False

    return compare


def _text(op: Callable[[str, str], bool], *, fold: bool = False) -> Callable[[Any, Any], bool]:
    def compare(value: Any, wanted: Any) -> bool:
        if not isinstance(value, str) or not isinstance(wanted, str):
            return False
        return op(value.casefold(), wanted.casefold()) if fold else op(value, wanted)

    return compare


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda v, w: v == w,
    "neq": lambda v, w: v != w,
    "in": lambda v, w: v in w,
    "nin": lambda v, w: v not in w,
    "lt": _ordered(lambda v, w: v < w),
    "lte": _ordered(lambda v, w: v <= w),
    "gt": _ordered(lambda v, w: v > w),
    "gte": _ordered(lambda v, w: v >= w),
    "eqIgnoreCase": _text(lambda v, w: v == w, fold=True),
    "neqIgnoreCase": lambda v, w: not _text(lambda a, b: a == b, fold=True)(v, w),
    "contains": _text(lambda v, w: w in v),
    "notContains": lambda v, w: not _text(lambda a, b: b in a)(v, w),
    "containsIgnoreCase": _text(lambda v, w: w in v, fold=True),
    "notContainsIgnoreCase": lambda v, w: not _text(lambda a, b: b in a, fold=True)(v, w),
    "containsIgnoreCaseAndAccent": _text(lambda v, w: w in v, fold=True),
    "startsWith": _text(lambda v, w: v.startswith(w)),
    "startsWithIgnoreCase": _text(lambda v, w: v.startswith(w), fold=True),
    "notStartsWith": lambda v, w: not _text(lambda a, b: a.startswith(b))(v, w),
    "endsWith": _text(lambda v, w: v.endswith(w)),
    "notEndsWith": lambda v, w: not _text(lambda a, b: a.endswith(b))(v, w),
}
