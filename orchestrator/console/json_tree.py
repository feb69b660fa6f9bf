"""A recorded payload as a collapsible HTML tree: ``<details>`` all the way down.

No JavaScript: ``<details>``/``<summary>`` open and close with a click, Enter or Space.
Values the store redacted (``[redacted: why]``) are shown as markers, never as values.
Paths the handoff diff found changed are highlighted (``class="changed"``) with the last
good value beside them. A tree stops after :data:`MAX_NODES` nodes and says how many it
left out, so one huge payload cannot make a page heavy; the raw JSON is a link away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

MAX_NODES = 150
_SHORT = 160
REDACTION_PREFIX = "[redacted:"

Path = tuple[str | int, ...]


class _Budget:
    def __init__(self, nodes: int) -> None:
        self.left = nodes
        self.skipped = 0


def render_tree(
    value: Any,
    *,
    changed: Mapping[Path, Any] | None = None,
    max_nodes: int = MAX_NODES,
    open_depth: int = 1,
) -> Markup:
    """The tree of ``value``; ``changed`` maps a path to the last good value there."""
    budget = _Budget(max_nodes)
    body = _node("", value, (), changed or {}, budget, open_depth)
    more = (
        Markup('<p class="more">… {} more values not shown; open the raw JSON</p>').format(
            budget.skipped
        )
        if budget.skipped
        else Markup("")
    )
    return Markup('<div class="tree">{}{}</div>').format(body, more)


def _node(
    key: str | int,
    value: Any,
    path: Path,
    changed: Mapping[Path, Any],
    budget: _Budget,
    open_depth: int,
) -> Markup:
    if budget.left <= 0:
        budget.skipped += 1
        return Markup("")
    budget.left -= 1
    label = _key(key)
    mark = _changed(path, changed)
    if isinstance(value, dict | list) and value:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        children = Markup("").join(
            _item(_node(k, v, (*path, k), changed, budget, open_depth - 1)) for k, v in items
        )
        size = f"{{{len(value)}}}" if isinstance(value, dict) else f"[{len(value)}]"
        opened = " open" if open_depth > 0 or _under_change(path, changed) else ""
        return Markup(
            '<details{}{}><summary>{}<span class="size">{}</span>{}</summary><ul>{}</ul></details>'
        ).format(Markup(opened), _class(mark), label, size, _was(path, changed), children)
    return Markup("<span{}>{}{}{}</span>").format(
        _class(mark), label, _leaf(value), _was(path, changed)
    )


def _item(node: Markup) -> Markup:
    return Markup("<li>{}</li>").format(node) if node else Markup("")


def _key(key: str | int) -> Markup:
    if key == "":
        return Markup("")
    return Markup('<span class="key">{}</span>: ').format(key)


def _leaf(value: Any) -> Markup:
    if isinstance(value, str) and REDACTION_PREFIX in value:
        return Markup(
            '<span class="redacted" title="redacted by the trace store">{}</span>'
        ).format(_short(value))
    kind = (
        "null"
        if value is None
        else "bool"
        if isinstance(value, bool)
        else "num"
        if isinstance(value, int | float)
        else "str"
    )
    return Markup('<span class="{}">{}</span>').format(kind, _short(json.dumps(value)))


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _changed(path: Path, changed: Mapping[Path, Any]) -> bool:
    return path in changed


def _under_change(path: Path, changed: Mapping[Path, Any]) -> bool:
    """Open a branch that leads to a change, so the highlight is visible at once."""
    depth = len(path)
    return any(p[:depth] == path and len(p) > depth for p in changed)


def _class(changed: bool) -> Markup:
    return Markup(' class="changed"') if changed else Markup("")


def _was(path: Path, changed: Mapping[Path, Any]) -> Markup:
    if path not in changed:
        return Markup("")
    return Markup(' <span class="was">last good: {}</span>').format(
        _short(json.dumps(changed[path], default=str))
    )


def escape_json(value: Any) -> Markup:
    """Pretty JSON text for a ``<pre>``."""
    return escape(json.dumps(value, indent=2, default=str, ensure_ascii=False))
