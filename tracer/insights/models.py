"""The public shapes of insights: what the CLI prints as JSON, the Slack digest reads and
the web console shows. Keep the field names stable — they are a contract.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracer.insights.stats import wilson

__all__ = [
    "Condition",
    "DayCount",
    "FailureGroup",
    "Finding",
    "FindingKind",
    "GroupFix",
    "Prevalence",
    "Ratio",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Prevalence(_Model):
    """``k`` of ``n`` runs, with the 95 % Wilson interval of the rate."""

    k: int
    n: int
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, k: int, n: int) -> Prevalence:
        low, high = wilson(k, n)
        return cls(k=k, n=n, rate=k / n if n else 0.0, low=low, high=high)

    def text(self) -> str:
        """``k/N (x %, CI a–b %)``, the form every finding states."""
        return (
            f"{self.k}/{self.n} ({100 * self.rate:.1f} %, CI {100 * self.low:.1f}–"
            f"{100 * self.high:.1f} %)"
        )


class Ratio(_Model):
    """A risk ratio with its 95 % interval and the multiple-testing adjusted p-value."""

    value: float
    low: float
    high: float
    q_value: float

    def text(self) -> str:
        return (
            f"risk ratio {self.value:.1f} (CI {self.low:.1f}–{self.high:.1f}, q={self.q_value:.1g})"
        )


class DayCount(_Model):
    day: date
    count: int
    runs: int


class GroupFix(_Model):
    """The fix diagnoses proposed for a group: the most frequent verified one if any."""

    kind: str
    verified: bool
    patched_version: str | None = None
    detail: str = ""
    runs: int = Field(description="runs of the group whose diagnosis proposed this fix")


class FailureGroup(_Model):
    """Runs that failed the same way (Sentry's "issue"): one fingerprint, many runs."""

    id: str = Field(description="stable: a hash of the fingerprint")
    pipeline: str
    onset_step: str | None
    fault_class: str
    signature: str = Field(description="normalised error, or `rubric <ids>` for QC failures")
    status: str
    count: int
    prevalence: Prevalence
    first_seen: datetime
    last_seen: datetime
    trend: list[DayCount]
    affected_objects: list[str]
    affected_object_count: int
    representative_runs: list[str]
    fix: GroupFix | None = None


class Condition(_Model):
    """One attribute value, ``attr = value``; a finding's condition is a conjunction."""

    attr: str
    value: str

    def text(self) -> str:
        return f"{self.attr} = {self.value!r}"


FindingKind = Literal[
    "failure_group",
    "explanation",
    "default_taken",
    "value_shift",
    "retry_absorbed",
    "latency_shift",
    "cohort_difference",
]


class Finding(_Model):
    """One sentence-sized fact about the corpus, with its evidence."""

    kind: FindingKind
    key: str = Field(description="stable identity of the pattern (for de-duplication, tests)")
    sentence: str
    pipeline: str | None = None
    prevalence: Prevalence
    ratio: Ratio | None = None
    conditions: list[Condition] = Field(default_factory=list)
    group_id: str | None = None
    step: str | None = None
    path: str | None = None
    value: str | None = None
    change_day: date | None = None
    before: float | None = Field(default=None, description="rate (or p50 ms) before the change")
    after: float | None = Field(default=None, description="rate (or p50 ms) after the change")
    cited_runs: list[str]
    impact: float = Field(description="how much it matters: runs affected × strength")
