"""A small interpreter for Airtable's ``filterByFormula``.

It covers what clients send in practice: ``{Field} = 'value'``, comparisons, ``&``
and arithmetic, ``AND``/``OR``/``NOT``/``IF``, ``TRUE()``/``FALSE()``/``BLANK()``,
``RECORD_ID()``, ``DATETIME_PARSE`` (what pyairtable's ``match()`` emits for dates),
``LOWER``/``UPPER``/``TRIM``/``LEN``/``FIND``/``SEARCH``/``CONCATENATE``. A formula is
parsed once per request against the table's current schema, so an unknown field or
function is the same 422 ``INVALID_FILTER_BY_FORMULA`` Airtable gives, before any record
is looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.airtable.emulator_values import WireError, render_string, typed_error


@dataclass(frozen=True)
class Row:
    """What a formula can see of one record: its id and its values by field name."""

    id: str
    values: dict[str, Any]


Node = Callable[[Row], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<field>\{(?:\\.|[^}\\])*\})
    | (?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|!=|<>|[=<>&+\-*/(),])
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("=", "!=", "<>", "<", ">", "<=", ">=")


def compile_formula(text: str, field_names: set[str]) -> Node:
    """Parse ``text``; raises Airtable's 422 for a bad formula or unknown names."""
    parser = _Parser(_tokenize(text), field_names)
    node = parser.expression()
    if parser.pos != len(parser.tokens):
        raise _invalid(f"unexpected {parser.tokens[parser.pos][1]!r}")
    if parser.unknown_fields:
        raise _invalid("Unknown field names: " + ", ".join(sorted(parser.unknown_fields)))
    return node


def truthy(value: Any) -> bool:
    return value not in (None, "", 0, False, [])


def _invalid(detail: str) -> WireError:
    return typed_error(
        422, "INVALID_FILTER_BY_FORMULA", f"The formula for filtering records is invalid: {detail}"
    )


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            raise _invalid(f"cannot read {text[pos : pos + 20]!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return tokens


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], field_names: set[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.field_names = field_names
        self.unknown_fields: set[str] = set()

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise _invalid("the formula ends too early")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise _invalid(f"expected {expected!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def expression(self) -> Node:
        left = self.binary(0)
        while self.peek() in _COMPARISONS:
            op = self.take()[1]
            left = _compare(op, left, self.binary(0))
        return left

    def binary(self, level: int) -> Node:
        levels = (("&",), ("+", "-"), ("*", "/"))
        if level == len(levels):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in levels[level]:
            op = self.take()[1]
            left = _arith(op, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return lambda row: -_number(inner(row))
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            number = float(text)
            return lambda row: number
        if kind == "str":
            literal = _unescape(text[1:-1])
            return lambda row: literal
        if kind == "field":
            return self.field(_unescape(text[1:-1]))
        if kind == "name":
            return self.call(text.upper())
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        raise _invalid(f"unexpected {text!r}")

    def field(self, name: str) -> Node:
        if name not in self.field_names:
            self.unknown_fields.add(name)
        return lambda row: row.values.get(name)

    def call(self, name: str) -> Node:
        self.take("(")
        args: list[Node] = []
        while self.peek() != ")":
            args.append(self.expression())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        function = _FUNCTIONS.get(name)
        if function is None:
            raise _invalid(f"Unknown function names: {name}")
        return lambda row: function(row, args)


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return render_string(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return float(value)
    return value


def _number(value: Any) -> float:
    value = _scalar(value)
    if value in (None, ""):
        return 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _compare(op: str, left: Node, right: Node) -> Node:
    def node(row: Row) -> bool:
        a, b = _scalar(left(row)), _scalar(right(row))
        if isinstance(a, float) or isinstance(b, float):
            a, b = _number(a), _number(b)
        else:
            a, b = a or "", b or ""
        if op == "=":
            return bool(a == b)
        if op in ("!=", "<>"):
            return bool(a != b)
        return bool({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op])

    return node


def _arith(op: str, left: Node, right: Node) -> Node:
    def node(row: Row) -> Any:
        if op == "&":
            return "".join(render_string(_scalar(v) or "") for v in (left(row), right(row)))
        a, b = _number(left(row)), _number(right(row))
        if op == "/":
            return a / b if b else None
        return a + b if op == "+" else a - b if op == "-" else a * b

    return node


def _datetime_parse(row: Row, args: list[Node]) -> Any:
    text = render_string(args[0](row)) if args else ""
    return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text) else text


def _find(row: Row, args: list[Node], *, fold: bool) -> float:
    needle, hay = (render_string(a(row) or "") for a in args[:2])
    if fold:
        needle, hay = needle.lower(), hay.lower()
    return float(hay.find(needle) + 1)


def _if(row: Row, args: list[Node]) -> Any:
    if truthy(args[0](row)):
        return args[1](row) if len(args) > 1 else None
    return args[2](row) if len(args) > 2 else None


def _text(row: Row, args: list[Node]) -> str:
    return render_string(_scalar(args[0](row)) or "") if args else ""


_FUNCTIONS: dict[str, Callable[[Row, list[Node]], Any]] = {
    "AND": lambda row, args: all(truthy(a(row)) for a in args),
    "OR": lambda row, args: any(truthy(a(row)) for a in args),
    "NOT": lambda row, args: not truthy(args[0](row)) if args else True,
    "IF": _if,
    "TRUE": lambda row, args: True,
    "FALSE": lambda row, args: False,
    "BLANK": lambda row, args: None,
    "RECORD_ID": lambda row, args: row.id,
    "DATETIME_PARSE": _datetime_parse,
    "LOWER": lambda row, args: _text(row, args).lower(),
    "UPPER": lambda row, args: _text(row, args).upper(),
    "TRIM": lambda row, args: _text(row, args).strip(),
    "LEN": lambda row, args: float(len(_text(row, args))),
    "FIND": lambda row, args: _find(row, args, fold=False),
    "SEARCH": lambda row, args: _find(row, args, fold=True),
    "CONCATENATE": lambda row, args: "".join(_text(row, [a]) for a in args),
}
