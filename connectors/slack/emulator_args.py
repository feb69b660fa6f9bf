"""Reading a Web API call's arguments the way Slack does.

Arguments arrive as query parameters, a form body, or (for the write methods only) a
JSON body; form values are strings, so ``blocks`` and ``metadata`` may be JSON text and
booleans may be ``"true"``/``"1"``. Validation answers Slack's own codes:
``invalid_arguments`` for a missing required argument, ``invalid_blocks`` (with the
``errors`` list and ``[ERROR] …`` messages Slack adds), ``invalid_metadata_format``,
``invalid_cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from connectors.slack.emulator_state import SlackFailure

# Slack accepts JSON bodies for write methods; other methods ignore a JSON body.
JSON_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.delete", "chat.postEphemeral", "chat.getPermalink"}
)
BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)
# The keys Block Kit allows, for the blocks we check strictly.
BLOCK_KEYS: dict[str, set[str]] = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "divider": {"type", "block_id"},
    "context": {"type", "block_id", "elements"},
}
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150

T = TypeVar("T")

# Slack refuses argument names that are long or not alphanumeric-and-underscore.
_ARG_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def parse_args(method: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Every argument of one call: query parameters, then the body's (which win)."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/json"):
        if method in JSON_METHODS:
            try:
                payload = json.loads(body or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise SlackFailure("invalid_json") from None
            if isinstance(payload, dict):
                args.update(payload)
    elif body:
        args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    bad = [name for name in args if not _ARG_NAME.match(name)]
    if bad:
        raise SlackFailure(
            "invalid_arg_name", messages=[f"[ERROR] invalid argument name: {bad[0]}"]
        )
    return args


def required(args: dict[str, Any], name: str) -> Any:
    """The argument ``name``; ``invalid_arguments`` naming it when missing."""
    value = args.get(name)
    if value is None or value == "":
        raise SlackFailure(
            "invalid_arguments", messages=[f"[ERROR] missing required field: {name}"]
        )
    return value


def text(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    return None if value is None or value == "" else str(value)


def flag(args: dict[str, Any], name: str, default: bool = False) -> bool:
    """A boolean argument: JSON ``true`` or form ``"true"``/``"1"``."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes")


def number(args: dict[str, Any], name: str, default: int, maximum: int) -> int:
    """An integer argument like ``limit``: Slack clamps it to ``maximum``."""
    value = args.get(name)
    try:
        parsed = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise SlackFailure(f"invalid_{name}") from None
    return default if parsed <= 0 else min(parsed, maximum)


def _json_value(value: Any, code: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackFailure(code) from None
    return value


def blocks(args: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ``blocks`` argument, checked like Slack's block kit validator."""
    raw = args.get("blocks")
    if raw is None or raw == "":
        return None
    value = _json_value(raw, "invalid_blocks_format")
    if not isinstance(value, list):
        raise SlackFailure("invalid_blocks_format")
    errors = [e for i, block in enumerate(value) for e in _block_errors(i, block)]
    if len(value) > MAX_BLOCKS:
        errors.append(
            f"must provide an array with no more than {MAX_BLOCKS} items [json-pointer:/blocks]"
        )
    if errors:
        raise SlackFailure(
            "invalid_blocks", errors=errors, messages=[f"[ERROR] {e}" for e in errors]
        )
    return value


def _block_errors(index: int, block: Any) -> list[str]:
    where = f"[json-pointer:/blocks/{index}"
    if not isinstance(block, dict):
        return [f"expected an object {where}]"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"unsupported type: {kind} {where}/type]"]
    unknown = sorted(set(block) - BLOCK_KEYS.get(kind, set(block)))
    if unknown:
        return [f"invalid additional property: {unknown[0]} {where}/{unknown[0]}]"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return [f"must provide either text or fields {where}]"]
        return _text_errors(block.get("text"), f"{where}/text", MAX_SECTION_TEXT, optional=True)
    if kind == "header":
        return _text_errors(block.get("text"), f"{where}/text", MAX_HEADER_TEXT, plain=True)
    return []


def _text_errors(
    obj: Any, where: str, limit: int, *, optional: bool = False, plain: bool = False
) -> list[str]:
    if obj is None and optional:
        return []
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"must provide an object {where}]"]
    allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        return [f"must be one of {', '.join(allowed)} {where}/type]"]
    if len(obj["text"]) > limit:
        return [f"must be less than {limit + 1} characters {where}/text]"]
    return []


def metadata(args: dict[str, Any]) -> dict[str, Any] | None:
    """The ``metadata`` argument: ``{"event_type": str, "event_payload": object}``."""
    raw = args.get("metadata")
    if raw is None or raw == "":
        return None
    value = _json_value(raw, "invalid_metadata_format")
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not isinstance(value.get("event_payload", {}), dict)
    ):
        raise SlackFailure("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value.get("event_payload", {})}


def page(
    items: Sequence[T], args: dict[str, Any], *, kind: str, default: int, maximum: int
) -> tuple[list[T], str]:
    """One page of ``items`` and the ``next_cursor`` (empty on the last page)."""
    limit = number(args, "limit", default, maximum)
    start = _cursor_offset(text(args, "cursor"), kind)
    chunk = list(items[start : start + limit])
    end = start + len(chunk)
    next_cursor = ""
    if end < len(items):
        next_cursor = base64.b64encode(f"{kind}:{end}".encode()).decode()
    return chunk, next_cursor


def _cursor_offset(cursor: str | None, kind: str) -> int:
    if cursor is None:
        return 0
    try:
        prefix, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackFailure("invalid_cursor") from None
