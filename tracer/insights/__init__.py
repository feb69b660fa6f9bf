"""Insights across many runs: the corpus data layer (DuckDB), failure groups, DIFF
explanations and silent patterns. Tool-agnostic: it reads the trace store's tables only.

Public API: :func:`failure_groups` (the console's entry point), :func:`analyse`,
:func:`load_corpus`, the models in :mod:`.models` and the
:class:`InsightsError` tree.
"""

from tracer.insights.corpus import ChosenPath, Corpus, load_corpus
from tracer.insights.errors import CohortSyntaxError, CorpusUnavailableError, InsightsError
from tracer.insights.findings import Analysis, analyse, analyse_corpus, failure_groups
from tracer.insights.models import (
    Condition,
    DayCount,
    FailureGroup,
    Finding,
    GroupFix,
    Prevalence,
    Ratio,
)

__all__ = [
    "Analysis",
    "ChosenPath",
    "CohortSyntaxError",
    "Condition",
    "Corpus",
    "CorpusUnavailableError",
    "DayCount",
    "FailureGroup",
    "Finding",
    "GroupFix",
    "InsightsError",
    "Prevalence",
    "Ratio",
    "analyse",
    "analyse_corpus",
    "failure_groups",
    "load_corpus",
]
