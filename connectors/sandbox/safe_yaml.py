"""YAML from people's files, with alias expansion bounded: no "billion laughs".

PyYAML's safe loader refuses arbitrary objects but not size: nine anchors that each
repeat the previous one nine times compose into a few hundred bytes of nodes and
construct into a billion strings (minutes and gigabytes). :func:`compose_bounded`
composes the node graph — where an alias is a shared reference, so composing stays
linear in the text — and measures the document as it would be *expanded* (every alias
counted as often as it is used) before anything is constructed or walked. Too many
nodes, too deep a nesting, an alias that contains itself, or too long a text is one
:class:`YamlLimitError` naming the limit, in well under a second.

Every loader of hand-written YAML (pipeline specs, scenario files, fault files) goes
through here.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT_CHARS",
    "YamlLimitError",
    "compose_bounded",
    "safe_load_bounded",
]

MAX_TEXT_CHARS = 5_000_000
"""A spec, scenario or fault file is hand-written: megabytes are a mistake or an attack."""
MAX_NODES = 200_000
"""Nodes of the expanded document (each alias counted at every use)."""
MAX_DEPTH = 64
"""Nesting of mappings and lists, aliases followed."""

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (several times faster), else the pure-Python one."""


class YamlLimitError(ValueError):
    """The document is too large once expanded (or too deep, or self-referencing)."""


def compose_bounded(text: str, source: str) -> yaml.Node | None:
    """The node graph of ``text``; :class:`YamlLimitError` if it would expand too far.

    ``yaml.YAMLError`` (malformed YAML) passes through for the caller to report.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise YamlLimitError(
            f"{source}: {len(text):,} characters is more than the {MAX_TEXT_CHARS:,} a "
            "hand-written YAML file may have; split it or check that it is the right file"
        )
    node = yaml.compose(text, Loader=_LOADER)
    if node is not None:
        _measure(node, source)
    return node


def safe_load_bounded(text: str, source: str) -> Any:
    """``yaml.safe_load`` with the bounds of :func:`compose_bounded`."""
    node = compose_bounded(text, source)
    return yaml.SafeLoader("").construct_document(node) if node is not None else None


def _measure(root: yaml.Node, source: str) -> None:
    """Expanded node count and depth of ``root``, each shared node measured once."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)
    on_path: set[int] = set()

    def measure(node: yaml.Node, level: int) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise YamlLimitError(
                f"{source}: an alias (line {node.start_mark.line + 1}) refers to a node that "
                "contains it; recursive YAML is not allowed here"
            )
        if level > MAX_DEPTH:
            raise YamlLimitError(
                f"{source}: nested deeper than {MAX_DEPTH} levels (at line "
                f"{node.start_mark.line + 1}); flatten the document"
            )
        children = _children(node)
        on_path.add(key)
        count, depth = 1, 1
        for child in children:
            child_count, child_depth = measure(child, level + 1)
            count += child_count
            depth = max(depth, child_depth + 1)
            if count > MAX_NODES:
                raise YamlLimitError(
                    f"{source}: expands to more than {MAX_NODES:,} values (aliases such as "
                    f"the one near line {child.start_mark.line + 1} repeat whole subtrees); "
                    "anchors and aliases may share a value, not multiply it"
                )
        on_path.discard(key)
        sizes[key] = (count, depth)
        return count, depth

    measure(root, 0)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
