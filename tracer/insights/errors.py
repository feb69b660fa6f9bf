"""What can go wrong when the corpus is asked a question, as one small exception tree.

::

    InsightsError                 the one thing callers catch (the CLI exits 2 on it)
    ├── CorpusUnavailableError    the store is empty, has one run, or is not at the
    │                             current schema (mid-migration, or written by another
    │                             steptrace)
    └── CohortSyntaxError         a ``--cohort`` / ``--vs`` expression does not parse,
                                  or names a field the corpus does not have

Every message names the input and the way out.
"""

from __future__ import annotations

__all__ = ["CohortSyntaxError", "CorpusUnavailableError", "InsightsError"]


class InsightsError(Exception):
    """A question the corpus cannot answer as asked."""


class CorpusUnavailableError(InsightsError):
    """The trace store cannot be analysed (empty, too small, or not at the current schema)."""


class CohortSyntaxError(InsightsError):
    """A cohort expression that does not parse; ``position`` is the 0-based offset."""

    def __init__(self, expression: str, position: int, problem: str) -> None:
        pointer = " " * position + "^"
        super().__init__(
            f"cohort expression does not parse: {problem}\n  {expression}\n  {pointer}\n"
            "write e.g. `version = 'a15e1dd2' and trigger.team in ('OPS', 'ENG')`, "
            "`day >= '2026-09-10'`, `not status = 'failed'`"
        )
        self.expression = expression
        self.position = position
        self.problem = problem
