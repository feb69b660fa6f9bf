"""The pruning walk behind `tracer.diff.structural_diff`.

`Walk.node` descends two JSON values side by side along the paths where they differ and
does, at each dict and list on those paths, what DeepDiff's `_diff_dict` and
`_diff_iterable_in_order` do (deepdiff/diff.py, read for 9.1):

- a path in `exclude_paths` is skipped, as DeepDiff's `_skip_this` does;
- dict keys starting with `__` are ignored while `ignore_private_variables` is on;
- a dict whose shared keys are fewer than `threshold_to_diff_deeper` of all its keys
  (counted as DeepDiff counts them, exclusions included) is reported whole, so it
  becomes a frontier;
- added keys, then removed keys, are reported here, then shared keys are descended;
- a list holding only scalars is diffed by DeepDiff with difflib, so it becomes a
  frontier whole; any other list pairs items by index and reports the longer list's
  tail as added or removed items;
- anything else that differs (a leaf, a change of type, a dict with non-string keys) is
  a frontier: DeepDiff compares it, at its real path, in one call for all frontiers.

Pairs of children that are strictly equal are never visited. "Strictly" matters:
`{"n": 1} == {"n": 1.0}` in Python, yet DeepDiff reports a type change, so pairs are
compared by their `marshal` bytes, which keep int, float and bool apart (see
`_strictly_equal`). That runs in C, a chunk of siblings at a time; the walk itself, in
Python, touches only the changed paths. Measured on 1 MB payloads, marshalling both sides
costs about what one `==` pass costs, and `==` alone would still need the type check.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepdiff.helper import basic_types, notpresent
from deepdiff.path import stringify_element

# Children are compared this many at a time; a chunk that differs is compared item by
# item. Small enough that one change costs little, large enough that the C calls dominate.
_CHUNK = 64
# Containers with at most this many children are descended into without a check.
_NARROW = 4
_SCALARS = frozenset({str, int, float, bool, type(None)})

Key = str | int
# How DeepDiff quotes a dict key in a path (its DictRelationship.quote_str), and the
# function it quotes with (untyped in deepdiff, so typed here).
_QUOTE = "'{}'"
_stringify: Callable[..., str] = stringify_element


@dataclass(frozen=True)
class WalkRules:
    """The DeepDiff options that change what the walk does at a dict or list."""

    excludes: frozenset[str]
    threshold: float
    skip_private: bool


@dataclass(frozen=True)
class Entry:
    """A change the walk reports itself: a dict key or a list tail item added or removed."""

    seq: int
    kind: str
    path: str
    path_list: tuple[Key, ...]
    old: object
    new: object


@dataclass(frozen=True)
class Frontier:
    """A differing pair of values that DeepDiff compares, and where it sits."""

    seq: int
    path: str
    path_list: tuple[Key, ...]
    old: object
    new: object


@dataclass
class Walk:
    """Collects `entries` and `frontiers` in the order DeepDiff would meet them."""

    rules: WalkRules
    entries: list[Entry] = field(default_factory=list)
    frontiers: list[Frontier] = field(default_factory=list)
    _seq: int = 0

    def node(self, old: object, new: object, path: str, path_list: tuple[Key, ...]) -> None:
        """Compare two values that may differ: DeepDiff's `_diff` at `path`."""
        if path in self.rules.excludes:
            return
        if type(old) is dict and type(new) is dict and _str_keys(old) and _str_keys(new):
            self._dict(old, new, path, path_list)
        elif type(old) is list and type(new) is list and not (_scalars(old) and _scalars(new)):
            self._list(old, new, path, path_list)
        elif not (isinstance(old, list | dict) and _strictly_equal(old, new)):
            # Containers can get here unchecked (see `_differing`); equal ones stop here.
            self.frontiers.append(Frontier(self._next(), path, path_list, old, new))

    def _dict(
        self, old: dict[str, Any], new: dict[str, Any], path: str, path_list: tuple[Key, ...]
    ) -> None:
        old_keys, new_keys = self._keys(old), self._keys(new)
        old_set, new_set = set(old_keys), set(new_keys)
        shared = [key for key in new_keys if key in old_set]
        if not self._diff_deeper(path, old_set | new_set, len(shared)):
            self.frontiers.append(Frontier(self._next(), path, path_list, old, new))
            return
        for key in new_keys:
            if key not in old_set:
                self._report("dictionary_item_added", path, path_list, key, notpresent, new[key])
        for key in old_keys:
            if key not in new_set:
                self._report("dictionary_item_removed", path, path_list, key, old[key], notpresent)
        self._children(path, path_list, shared, [old[k] for k in shared], [new[k] for k in shared])

    def _keys(self, value: dict[str, Any]) -> list[str]:
        if self.rules.skip_private:
            return [key for key in value if not key.startswith("__")]
        return list(value)

    def _diff_deeper(self, path: str, union: set[str], shared: int) -> bool:
        """DeepDiff's `threshold_to_diff_deeper` rule, with its way of counting exclusions.

        DeepDiff builds these paths with `repr(key)`, not with the path syntax it reports,
        and drops excluded ones from the union only; both quirks are kept on purpose.
        """
        if not self.rules.threshold:
            return True
        size = len(union)
        if self.rules.excludes:
            size = len({f"{path}[{key!r}]" for key in union} - self.rules.excludes)
        return not (size > 1 and shared / size < self.rules.threshold)

    def _list(self, old: list[Any], new: list[Any], path: str, path_list: tuple[Key, ...]) -> None:
        common = min(len(old), len(new))
        self._children(path, path_list, range(common), old[:common], new[:common])
        for index in range(common, len(old)):
            self._report("iterable_item_removed", path, path_list, index, old[index], notpresent)
        for index in range(common, len(new)):
            self._report("iterable_item_added", path, path_list, index, notpresent, new[index])

    def _children(
        self,
        path: str,
        path_list: tuple[Key, ...],
        keys: Sequence[Key],
        old: list[Any],
        new: list[Any],
    ) -> None:
        """Descend into the pairs of children that are not strictly equal, in order."""
        for index in _differing(old, new):
            key = keys[index]
            self.node(old[index], new[index], path + _step(key), (*path_list, key))

    def _report(
        self,
        kind: str,
        path: str,
        path_list: tuple[Key, ...],
        key: Key,
        old: object,
        new: object,
    ) -> None:
        child = path + _step(key)
        if child not in self.rules.excludes:
            self.entries.append(Entry(self._next(), kind, child, (*path_list, key), old, new))

    def _next(self) -> int:
        self._seq += 1
        return self._seq


def _step(key: Key) -> str:
    """One path step written as DeepDiff writes it (`['name']`, `[3]`)."""
    if isinstance(key, str):
        return "[" + _stringify(key, quote_str=_QUOTE) + "]"
    return f"[{key}]"


def _str_keys(value: dict[Any, Any]) -> bool:
    return all(type(key) is str for key in value)


def _scalars(value: list[Any]) -> bool:
    """DeepDiff's test for diffing a list with difflib instead of pairing by index."""
    return all(isinstance(item, basic_types) for item in value)


def _differing(old: list[Any], new: list[Any]) -> list[int]:
    """Indexes of the pairs `old[i]`, `new[i]` that may differ, in order.

    Few children (a payload's top-level dict, say) are descended into without a check:
    one of them usually holds the whole payload and the change, so checking it first would
    serialize the payload for nothing. Many children are checked a chunk at a time (one
    marshal call per side), and one by one only inside a chunk that differs.
    """
    if len(old) <= _NARROW:
        return [i for i in range(len(old)) if not _same_scalar(old[i], new[i])]
    differing: list[int] = []
    for start in range(0, len(old), _CHUNK):
        stop = min(start + _CHUNK, len(old))
        if not _strictly_equal(old[start:stop], new[start:stop]):
            differing.extend(i for i in range(start, stop) if not _strictly_equal(old[i], new[i]))
    return differing


def _same_scalar(old: object, new: object) -> bool:
    """The same object, or JSON scalars of one type that DeepDiff finds equal."""
    return old is new or (type(old) is type(new) and type(old) in _SCALARS and old == new)


def _strictly_equal(old: Any, new: Any) -> bool:
    """Whether DeepDiff would find nothing at all between `old` and `new`.

    Python's `==` is not enough: `{"n": 1} == {"n": 1.0}`, yet DeepDiff reports a type
    change. marshal writes int, float and bool differently, and equal bytes mean equal
    values of equal types in the same order (marshal.loads would rebuild both alike).
    Version 2 is used because later versions write repeated or interned strings as
    references, so equal values built differently (parsed from JSON on one side, built
    in Python on the other) would differ in bytes. The one value that equal bytes do not
    make equal is NaN, unequal even to itself: a NaN (or an infinity) is written with a
    0x7f or 0xff byte, and only bytes holding one are also compared with `==`, whose
    identity shortcut matches DeepDiff's (the same NaN object is no change, two NaN
    objects are). Values marshal cannot write (custom objects) are never taken as equal:
    DeepDiff compares them.
    """
    if old is new:
        return True
    try:
        left, right = marshal.dumps(old, 2), marshal.dumps(new, 2)
    except ValueError:
        return False
    if left != right:
        return False
    return (b"\x7f" not in left and b"\xff" not in left) or bool(old == new)
