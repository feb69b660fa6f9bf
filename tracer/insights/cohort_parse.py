"""The cohort expression language of ``--cohort`` / ``--vs``, parsed to a small tree.

::

    expr       := term ('or' term)*
    term       := factor ('and' factor)*
    factor     := 'not' factor | '(' expr ')' | comparison
    comparison := field op value | field ['not'] 'in' '(' value (',' value)* ')'
    op         := = | != | < | <= | > | >=
    field      := name ('.' name)*          e.g. version, day, trigger.team, normalize.priority
    value      := 'text' | "text" | number | bare-word

Keywords are case-insensitive. A mistake raises :class:`CohortSyntaxError` with the
position and an example; which fields exist is checked when the tree is compiled
against a corpus (:mod:`.cohort`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracer.insights.errors import CohortSyntaxError

__all__ = ["And", "Compare", "Expr", "Not", "Or", "parse"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z0-9_\-:+\[\]]+(?:\.[A-Za-z0-9_\-:+\[\]]+)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in"}


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # = != < <= > >= in
    values: tuple[str, ...]
    negated: bool = False  # `not in`


@dataclass(frozen=True)
class Not:
    inner: Expr


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


Expr = Compare | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # string, op, punct, word, end
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            position = at + len(text[at:]) - len(text[at:].lstrip())
            raise CohortSyntaxError(text, position, f"unexpected character {text[position]!r}")
        kind = match.lastgroup or "word"
        out.append(_Token(kind, match.group(kind), match.start(kind)))
        at = match.end()
    out.append(_Token("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, problem: str, token: _Token | None = None) -> CohortSyntaxError:
        return CohortSyntaxError(self.text, (token or self.peek()).at, problem)

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "word" and token.text.lower() == word:
            self.i += 1
            return True
        return False

    def expr(self) -> Expr:
        parts = [self.term()]
        while self.keyword("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self) -> Expr:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self) -> Expr:
        if self.keyword("not"):
            return Not(self.factor())
        if self.peek().text == "(" and self.peek().kind == "punct":
            self.take()
            inner = self.expr()
            if self.take().text != ")":
                raise self.fail("expected `)`", self.tokens[self.i - 1])
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        token = self.take()
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self.fail("expected a field name such as `version` or `trigger.team`", token)
        negated = self.keyword("not")
        if self.keyword("in"):
            return Compare(token.text, "in", self.value_list(), negated)
        if negated:
            raise self.fail("expected `in` after `not`")
        op = self.take()
        if op.kind != "op":
            raise self.fail("expected an operator (=, !=, <, <=, >, >=, in)", op)
        return Compare(token.text, op.text, (self.value(),))

    def value_list(self) -> tuple[str, ...]:
        if self.take().text != "(":
            raise self.fail("expected `(` after `in`", self.tokens[self.i - 1])
        values = [self.value()]
        while self.peek().text == ",":
            self.take()
            values.append(self.value())
        if self.take().text != ")":
            raise self.fail("expected `,` or `)` in the list", self.tokens[self.i - 1])
        return tuple(values)

    def value(self) -> str:
        token = self.take()
        if token.kind == "string":
            quote = token.text[0]
            return token.text[1:-1].replace(quote * 2, quote)
        if token.kind == "word" and token.text.lower() not in _KEYWORDS:
            return token.text
        raise self.fail("expected a value ('text', a number or a word)", token)


def parse(text: str) -> Expr:
    """The tree of a cohort expression; :class:`CohortSyntaxError` if it does not parse."""
    if not text.strip():
        raise CohortSyntaxError(text, 0, "the expression is empty")
    parser = _Parser(text)
    tree = parser.expr()
    if parser.peek().kind != "end":
        raise parser.fail("unexpected text after the expression (missing `and` / `or`?)")
    return tree
