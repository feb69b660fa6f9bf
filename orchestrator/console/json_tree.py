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
from html import escape
from typing import Any

from markupsafe import Markup

MAX_NODES = 150
_SHORT = 160
REDACTION_PREFIX = "[redacted:"

Path = tuple[str | int, ...]


class _Tree:
    """One tree being written: the output pieces, the budget left, the changes."""

    def __init__(self, nodes: int, changed: Mapping[Path, Any]) -> None:
        self.left = nodes
        self.skipped = 0
        self.changed = changed
        # every prefix of a changed path: those branches open by themselves
        self.leads_to_change = {p[:depth] for p in changed for depth in range(len(p))}
        self.out: list[str] = []


def render_tree(
    value: Any,
    *,
    changed: Mapping[Path, Any] | None = None,
    max_nodes: int = MAX_NODES,
    open_depth: int = 1,
) -> Markup:
    """The tree of ``value``; ``changed`` maps a path to the last good value there."""
    # Plain string building with html.escape: Markup.format per node was most of a run
    # page's server time.
    tree = _Tree(max_nodes, changed or {})
    tree.out.append('<div class="tree">')
    _node(tree, "", value, (), open_depth)
    if tree.skipped:
        tree.out.append(
            f'<p class="more">… {tree.skipped} more values not shown; open the raw JSON</p>'
        )
    tree.out.append("</div>")
    return Markup("".join(tree.out))


def _node(tree: _Tree, key: str | int, value: Any, path: Path, open_depth: int) -> None:
    if tree.left <= 0:
        tree.skipped += 1
        return
    tree.left -= 1
    out = tree.out
    mark = ' class="changed"' if path in tree.changed else ""
    label = "" if key == "" else f'<span class="key">{escape(str(key))}</span>: '
    was = _was(tree, path)
    if isinstance(value, dict | list) and value:
        size = f"{{{len(value)}}}" if isinstance(value, dict) else f"[{len(value)}]"
        opened = " open" if open_depth > 0 or path in tree.leads_to_change else ""
        out.append(
            f'<details{opened}{mark}><summary>{label}<span class="size">{size}</span>'
            f"{was}</summary><ul>"
        )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for child_key, child in items:
            if tree.left <= 0:
                tree.skipped += 1
                continue
            out.append("<li>")
            _node(tree, child_key, child, (*path, child_key), open_depth - 1)
            out.append("</li>")
        out.append("</ul></details>")
        return
    out.append(f"<span{mark}>{label}{_leaf(value)}{was}</span>")


def _leaf(value: Any) -> str:
    if isinstance(value, str) and REDACTION_PREFIX in value:
        return (
            '<span class="redacted" title="redacted by the trace store">'
            f"{escape(_short(value))}</span>"
        )
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int | float):
        kind = "num"
    else:
        kind = "str"
    return f'<span class="{kind}">{escape(_short(json.dumps(value, default=str)))}</span>'


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _was(tree: _Tree, path: Path) -> str:
    if path not in tree.changed:
        return ""
    old = escape(_short(json.dumps(tree.changed[path], default=str)))
    return f' <span class="was">last good: {old}</span>'


def escape_json(value: Any) -> Markup:
    """Pretty JSON text for a ``<pre>``."""
    return Markup(escape(json.dumps(value, indent=2, default=str, ensure_ascii=False)))
