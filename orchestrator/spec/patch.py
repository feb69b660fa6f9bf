"""Small, line-level edits of a pipeline's YAML text, and the unified diff they make.

A proposed fix is shown to a person as a unified diff of the spec they wrote, so edits
keep the author's layout and comments: each edit changes one line (or inserts a few)
found through the line numbers the YAML loader recorded. An edit that cannot be placed
unambiguously raises :class:`PatchError` instead of guessing.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from orchestrator.spec.yaml_lines import LinePath, parse_with_lines


class PatchError(ValueError):
    """The edit cannot be placed in the spec text."""


@lru_cache(maxsize=64)
def _key_lines(text: str, source: str) -> Mapping[LinePath, int]:
    """The line of every key of ``text``, read once per text: a fix is proposed on the
    same few stored spec versions again and again, and composing the YAML is most of
    what an edit costs. Read-only, as every :class:`SpecText` of that text shares it."""
    return MappingProxyType(parse_with_lines(text, source)[1])


class SpecText:
    """A spec's text with the line of every key, edited in place."""

    def __init__(self, text: str, source: str = "<pipeline>") -> None:
        self.original = text
        self.source = source
        self.lines = text.splitlines(keepends=True)
        self._original_lines = tuple(self.lines)
        self._where = _key_lines(text, source)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def changed(self) -> bool:
        """Whether an edit changed a line (:meth:`diff` is not empty), without the diff."""
        return tuple(self.lines) != self._original_lines

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self._original_lines,
                self.lines,
                fromfile=f"a/{self.source}",
                tofile=f"b/{self.source}",
            )
        )

    def _line(self, path: LinePath) -> int:
        # Exactly this path: line_of falls back to the nearest enclosing key.
        line = self._where.get(tuple(path))
        if line is None:
            raise PatchError(f"{self.source}: no line for {'.'.join(map(str, path))}")
        return line - 1

    def rename_key(self, path: LinePath, new_key: str) -> None:
        """``path``'s key becomes ``new_key`` (a renamed destination field)."""
        index = self._line(path)
        old = str(path[-1])
        pattern = re.compile(rf"^(\s*(?:-\s+)?)(['\"]?){re.escape(old)}\2(\s*:)")
        text, count = pattern.subn(rf"\g<1>{_key_text(new_key)}\3", self.lines[index], count=1)
        if count != 1:
            raise PatchError(f"{self.source}:{index + 1}: key {old!r} not found on its line")
        self.lines[index] = text

    def replace_value(self, path: LinePath, old: Any, new: Any) -> None:
        """The scalar at ``path`` (a value-map entry, an argument) changes from old to new."""
        index = self._line(path)
        key = re.escape(str(path[-1]))
        pattern = re.compile(rf"((?<![\w-]){key}['\"]?\s*:\s*)(['\"]?){re.escape(str(old))}\2")
        text, count = pattern.subn(lambda m: m.group(1) + _scalar(new), self.lines[index], count=1)
        if count != 1:
            raise PatchError(f"{self.source}:{index + 1}: value {old!r} not found on its line")
        self.lines[index] = text

    def replace_token(self, path: LinePath, old: str, new: str) -> None:
        """One occurrence of ``old`` in the expression at ``path`` becomes ``new``."""
        index = self._line(path)
        line = self.lines[index]
        pattern = re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w])")
        if len(pattern.findall(line)) != 1:
            raise PatchError(f"{self.source}:{index + 1}: {old!r} is not once on its line")
        self.lines[index] = pattern.sub(lambda _: new, line, count=1)

    def delete_key(self, path: LinePath) -> None:
        """Remove the one-line entry at ``path`` (stop writing a field)."""
        index = self._line(path)
        line = self.lines[index]
        key = re.escape(str(path[-1]))
        if not re.match(rf"^\s*['\"]?{key}['\"]?\s*:\s*\S", line):
            raise PatchError(f"{self.source}:{index + 1}: {path[-1]!r} is not a one-line entry")
        del self.lines[index]

    def rename_segment(self, path: LinePath, before: str, old: str, new: str) -> None:
        """In the expression at ``path``, ``<before>.<old>`` becomes ``<before>.<new>``."""
        index = self._line(path)
        # After a projection the segment follows `[*].` (or `[].`), not a name.
        after = r"(?<=\]\.)" if before == "*" else rf"(?<=\b{re.escape(before)}\.)"
        pattern = re.compile(rf"{after}{re.escape(old)}\b")
        text, count = pattern.subn(new, self.lines[index])
        if count == 0:
            raise PatchError(f"{self.source}:{index + 1}: no `{before}.{old}` on its line")
        self.lines[index] = text

    def add_map_entry(self, values_path: LinePath, key: Any, value: Any) -> None:
        """Add ``key: value`` to the value map at ``values_path``."""
        index = self._line(values_path)
        line = self.lines[index]
        entry = f"{_scalar(key)}: {_scalar(value)}"
        if "{" in line:
            self.lines[index] = line.replace("{", "{" + entry + ", ", 1)
            return
        indent = (
            _indent(self.lines[index + 1]) if index + 1 < len(self.lines) else _indent(line) + 2
        )
        self.lines.insert(index + 1, " " * indent + entry + "\n")

    def insert_entry(
        self, map_path: LinePath, name: str, source: str, option: str, value: Any
    ) -> None:
        """Add a ``map:`` entry ``name`` reading ``source``, with one option, as the first."""
        index = self._line(map_path)
        indent = _indent(self.lines[index + 1]) if index + 1 < len(self.lines) else 6
        inner = " " * (indent + 2)
        self.lines[index + 1 : index + 1] = [
            f"{' ' * indent}{name}:\n",
            f"{inner}from: {source}\n",
            f"{inner}{option}: {_scalar(value)}\n",
        ]

    def set_entry_option(self, entry_path: LinePath, option: str, value: Any) -> None:
        """Give the ``map:`` entry at ``entry_path`` an option (``max_length: 2000``)."""
        index = self._line(entry_path)
        line = self.lines[index]
        name = str(entry_path[-1])
        match = re.match(rf"^(\s*){re.escape(name)}\s*:\s*(\S.*)$", line.rstrip("\n"))
        if match:  # `name: expression` becomes a mapping with `from:`
            indent, expression = match.group(1), match.group(2)
            inner = indent + "  "
            self.lines[index : index + 1] = [
                f"{indent}{name}:\n",
                f"{inner}from: {expression}\n",
                f"{inner}{option}: {_scalar(value)}\n",
            ]
            return
        child = self._line((*entry_path, "from"))
        self.lines.insert(
            child + 1, " " * _indent(self.lines[child]) + f"{option}: {_scalar(value)}\n"
        )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 _./@-]*$")


def _scalar(value: Any) -> str:
    """``value`` as YAML that reads back as the same string or number."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in {
        "yes",
        "no",
        "on",
        "off",
        "true",
        "false",
        "null",
    }:
        return text
    return json.dumps(text, ensure_ascii=False)


def _key_text(key: str) -> str:
    return _scalar(key)
