"""Load a fault list from a file: a scenario file (its ``faults:``) or a bare list.

Errors name the file, the line and what to do, because people write these by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from connectors.sandbox.faults import Fault, FaultSpecError, parse_faults
from connectors.sandbox.safe_yaml import YamlLimitError, compose_bounded, safe_load_bounded


class FaultFileError(ValueError):
    """The file cannot be read or does not hold a valid fault list."""


def load_fault_file(path: Path) -> list[Fault]:
    """The faults in ``path`` (YAML or JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FaultFileError(f"{path}: cannot read the fault file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise FaultFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    data = _parse_yaml(text, path)
    try:
        faults = parse_faults(data, source=str(path))
    except FaultSpecError as exc:
        raise FaultFileError(_with_line(str(exc), text, path)) from exc
    return faults


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return safe_load_bounded(text, str(path))
    except YamlLimitError as exc:
        raise FaultFileError(str(exc)) from exc
    except RecursionError as exc:
        raise FaultFileError(f"{path}: nested too deeply to read; flatten the file") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise FaultFileError(f"{path}: malformed YAML at {where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise FaultFileError(f"{path}: malformed YAML: {exc}") from exc


def _with_line(message: str, text: str, path: Path) -> str:
    """Add the line of the offending ``fault #N`` entry to ``message``."""
    marker = f"{path}: fault #"
    if not message.startswith(marker):
        return message
    number = message[len(marker) :].split(":", 1)[0]
    if not number.isdigit():
        return message
    line = _entry_line(text, int(number))
    return (
        message
        if line is None
        else message.replace(f"fault #{number}", f"fault #{number} (line {line})", 1)
    )


def _entry_line(text: str, position: int) -> int | None:
    node = compose_bounded(text, "fault file")  # parsed once already: within the bounds
    if isinstance(node, yaml.MappingNode):
        node = next((v for k, v in node.value if k.value == "faults"), None)
    if isinstance(node, yaml.SequenceNode) and 0 < position <= len(node.value):
        return int(node.value[position - 1].start_mark.line) + 1
    return None
