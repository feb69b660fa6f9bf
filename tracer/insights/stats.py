"""The few statistics the findings rest on, in closed form (no SciPy needed).

- :func:`wilson` — a prevalence ``k/n`` with its Wilson score interval (good at small k);
- :func:`risk_ratio` — MacroBase's risk ratio of an outlier class under a condition, with
  the Katz log interval and a two-sided p-value from the same normal approximation
  (a Haldane +0.5 correction when a cell is empty, so a perfect split stays finite);
- :func:`two_proportions` — the difference of two rates (cohort comparison);
- :func:`benjamini_hochberg` — the step-up adjustment, so that a corpus of thousands of
  candidate patterns does not report the ones that only chance produced.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Z95",
    "RiskRatio",
    "benjamini_hochberg",
    "hypergeom_sf",
    "normal_p",
    "risk_ratio",
    "two_proportions",
    "wilson",
]

Z95 = 1.959963984540054


def normal_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the proportion ``k/n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class RiskRatio:
    ratio: float
    low: float
    high: float
    p_value: float


def risk_ratio(a: int, matched: int, outliers: int, total: int) -> RiskRatio:
    """Risk ratio of being an outlier with the condition versus without it.

    ``a`` outliers of ``matched`` runs have the condition; ``outliers`` of ``total``
    runs are outliers overall.
    """
    b = matched - a  # inliers with the condition
    c = outliers - a  # outliers without it
    d = (total - matched) - c  # inliers without it
    if min(a, b, c, d) == 0:
        a_, b_, c_, d_ = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    else:
        a_, b_, c_, d_ = float(a), float(b), float(c), float(d)
    ratio = (a_ / (a_ + b_)) / (c_ / (c_ + d_))
    se = math.sqrt(max(1 / a_ - 1 / (a_ + b_) + 1 / c_ - 1 / (c_ + d_), 1e-12))
    log_rr = math.log(ratio)
    return RiskRatio(
        ratio=ratio,
        low=math.exp(log_rr - Z95 * se),
        high=math.exp(log_rr + Z95 * se),
        p_value=normal_p(log_rr / se),
    )


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float, float]:
    """(difference p1 - p2, its 95 % low and high, two-sided p) of two independent rates."""
    if n1 == 0 or n2 == 0:
        return 0.0, -1.0, 1.0, 1.0
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    se0 = math.sqrt(max(pooled * (1 - pooled) * (1 / n1 + 1 / n2), 1e-18))
    se = math.sqrt(max(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2, 1e-18))
    diff = p1 - p2
    return diff, diff - Z95 * se, diff + Z95 * se, normal_p(diff / se0)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def hypergeom_sf(k: int, total: int, outliers: int, matched: int) -> float:
    """Exact one-sided p-value: P(X ≥ k) for X the outliers among ``matched`` runs drawn
    from ``total`` runs of which ``outliers`` are outliers (Fisher's exact test, upper
    tail). Exact because small cells are where normal approximations invent patterns."""
    top = min(outliers, matched)
    if k <= 0:
        return 1.0
    if k > top:
        return 0.0
    low = max(k, matched - (total - outliers))
    if low > top:
        return 0.0
    table = _log_factorials(total)
    x = np.arange(low, top + 1)
    terms = (
        _log_choose(table, outliers, x)
        + _log_choose(table, total - outliers, matched - x)
        - _log_choose(table, total, np.int64(matched))
    )
    peak = float(terms.max())
    return min(1.0, math.exp(peak) * float(np.exp(terms - peak).sum()))


def _log_choose(table: np.ndarray, n: int, r: Any) -> Any:
    return table[n] - table[r] - table[n - r]


@functools.lru_cache(maxsize=4)
def _log_factorials(n: int) -> np.ndarray:
    """log(i!) for i = 0 … n (one table per corpus size: every test reads it)."""
    table = np.zeros(n + 1)
    np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)), out=table[1:])
    return table
