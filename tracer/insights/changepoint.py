"""One change point in a daily rate or level, found by likelihood (binary segmentation's
first split), with a p-value that pays for having searched every split (Bonferroni)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

__all__ = ["Change", "level_change", "rate_change"]


@dataclass(frozen=True)
class Change:
    at: int  # index of the first day after the change
    before: float
    after: float
    p_value: float


def _loglik(k: int, n: int) -> float:
    if n == 0 or k == 0 or k == n:
        return 0.0
    p = k / n
    return k * math.log(p) + (n - k) * math.log(1 - p)


def rate_change(ks: list[int], ns: list[int], min_side: int = 2) -> Change | None:
    """The split of daily counts ``ks`` of ``ns`` that best separates two binomial rates."""
    days = len(ks)
    if days < 2 * min_side or sum(ns) == 0:
        return None
    total = _loglik(sum(ks), sum(ns))
    best: tuple[float, int] | None = None
    for t in range(min_side, days - min_side + 1):
        k1, n1, k2, n2 = sum(ks[:t]), sum(ns[:t]), sum(ks[t:]), sum(ns[t:])
        if n1 == 0 or n2 == 0:
            continue
        gain = _loglik(k1, n1) + _loglik(k2, n2) - total
        if best is None or gain > best[0]:
            best = (gain, t)
    if best is None:
        return None
    gain, t = best
    splits = days - 2 * min_side + 1
    p = min(1.0, math.erfc(math.sqrt(max(gain, 0.0))) * splits)  # chi2(1) tail of 2·gain
    k1, n1, k2, n2 = sum(ks[:t]), sum(ns[:t]), sum(ks[t:]), sum(ns[t:])
    return Change(at=t, before=k1 / n1, after=k2 / n2, p_value=p)


def level_change(levels: list[float], min_side: int = 2) -> Change | None:
    """The split of daily levels (e.g. log p50 latency) with the largest t statistic."""
    days = len(levels)
    if days < 2 * min_side:
        return None
    best: tuple[float, int] | None = None
    for t in range(min_side, days - min_side + 1):
        a, b = levels[:t], levels[t:]
        spread = math.sqrt(
            (statistics.pvariance(a) * len(a) + statistics.pvariance(b) * len(b)) / days
        )
        score = abs(statistics.fmean(b) - statistics.fmean(a)) / max(spread, 1e-3)
        if best is None or score > best[0]:
            best = (score, t)
    if best is None:
        return None
    score, t = best
    n_eff = (t * (days - t)) / days
    p = min(1.0, math.erfc(score * math.sqrt(n_eff) / math.sqrt(2)) * (days - 2 * min_side + 1))
    return Change(
        at=t, before=statistics.fmean(levels[:t]), after=statistics.fmean(levels[t:]), p_value=p
    )
