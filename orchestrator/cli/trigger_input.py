"""``--trigger``: a JSON object given inline, as ``@file``, or as ``-`` (standard input).

Every way a trigger can be wrong is one line naming the input and the way out, never a
traceback and never the trigger's text (it may be large, or someone's secrets): not
UTF-8, a lone surrogate, ``NaN``/``Infinity`` (JSON has no such numbers; Python's
parser would accept them and they would turn into null downstream), not an object, or
larger than :data:`MAX_TRIGGER_BYTES`, which stays below Temporal's 2 MB payload limit
so that the workflow input is never refused by the server with a raw gRPC error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["MAX_TRIGGER_BYTES", "TriggerError", "read_trigger"]

MAX_TRIGGER_BYTES = 1024 * 1024
"""Half of Temporal's default 2 MiB blob limit: the workflow input carries the spec too."""


_ECHO_MAX = 200


class TriggerError(ValueError):
    """The trigger cannot be used; the message says why and what to do."""


def read_trigger(value: str, stdin: BinaryIO | None = None) -> dict[str, Any]:
    """The trigger object ``value`` stands for (inline JSON, ``@path`` or ``-``)."""
    if value == "-":
        raw = _bounded((stdin or sys.stdin.buffer).read(MAX_TRIGGER_BYTES + 1), "standard input")
        return _parse(_utf8(raw, "standard input"), "the trigger on standard input")
    if value.startswith("@"):
        path = Path(value[1:])
        return _parse(_utf8(_read_file(path), f"trigger file {path}"), f"trigger file {path}")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise TriggerError(
            "--trigger is not valid UTF-8 (the shell passed bytes that are not text); "
            "write it to a UTF-8 file and pass --trigger @FILE"
        ) from None
    _bounded(encoded, "--trigger")
    try:
        return _parse(value, "--trigger")
    except TriggerError as exc:
        # What the person just typed may be shown back, if short (escaped by repr);
        # a file's or standard input's content never is.
        raise TriggerError(f"{exc}: {value!r}" if len(value) <= _ECHO_MAX else str(exc)) from None


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return _bounded(handle.read(MAX_TRIGGER_BYTES + 1), f"trigger file {path}")
    except OSError as exc:
        raise TriggerError(f"cannot read trigger file {path}: {exc.strerror}") from exc


def _bounded(raw: bytes, what: str) -> bytes:
    if len(raw) > MAX_TRIGGER_BYTES:
        raise TriggerError(
            f"{what} is over {MAX_TRIGGER_BYTES // 1024} KiB, the most a trigger may be "
            "(Temporal refuses workflow inputs over 2 MiB); pass ids and let a step fetch "
            "the data"
        )
    return raw


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TriggerError(
            f"{what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


def _no_constant(name: str) -> Any:
    raise TriggerError(
        f'JSON has no {name}; give the value as null or as a string such as "{name}"'
    )


def _parse(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except TriggerError as exc:
        raise TriggerError(f"{what}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise TriggerError(
            f"{what} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            'give a JSON object such as \'{"issue": "ENG-101"}\''
        ) from None
    except RecursionError:
        raise TriggerError(f"{what} is nested too deeply to read") from None
    if not isinstance(value, dict):
        raise TriggerError(
            f'{what} must be a JSON object such as \'{{"issue": "ENG-101"}}\', '
            f"not a JSON {type(value).__name__}"
        )
    where = _surrogate(value)
    if where is not None:
        raise TriggerError(
            f"{what} has a lone surrogate escape (\\ud800-\\udfff) at {where}, which is not "
            "text; encode the character as a pair or as UTF-8"
        )
    return value


def _surrogate(value: Any, path: str = "$") -> str | None:
    """The path of the first string (or key) that is not encodable as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if _surrogate(key) is not None:
                return f"{path} (a key)"
            found = _surrogate(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
