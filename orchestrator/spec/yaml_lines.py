"""YAML with line numbers: where each key and item of a document starts.

Errors in hand-written specs must name the line. PyYAML's composed node tree has the
marks; this module turns it into ``{path: line}`` so a validation error at
``("steps", 2, "op")`` can say "line 17".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from connectors.sandbox.safe_yaml import YamlLimitError, compose_bounded

LinePath = tuple[str | int, ...]


class YamlError(ValueError):
    """The text is not valid YAML; the message names the line and column."""


def parse_with_lines(text: str, source: str) -> tuple[Any, dict[LinePath, int]]:
    """The document and the 1-based line of every key and list item in it.

    Alias expansion is bounded (:mod:`connectors.sandbox.safe_yaml`): a YAML bomb is one
    :class:`YamlError`, not minutes of CPU and gigabytes of memory.
    """
    try:
        node = compose_bounded(text, source)
        data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    except YamlLimitError as exc:
        raise YamlError(str(exc)) from exc
    except RecursionError as exc:
        raise YamlError(f"{source}: nested too deeply to read; flatten the document") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise YamlError(f"{source}: malformed YAML at {where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}: malformed YAML: {exc}") from exc
    lines: dict[LinePath, int] = {}
    if node is not None:
        _index(node, (), lines)
    return data, lines


def line_of(lines: dict[LinePath, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())


def _index(node: yaml.Node, path: LinePath, lines: dict[LinePath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, _key(key))
            lines[child] = key.start_mark.line + 1
            _index(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index(item, (*path, position), lines)


def _key(node: yaml.Node) -> str | int:
    value = node.value
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        return int(value)
    return str(value)
