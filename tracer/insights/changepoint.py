"""One change point in a daily rate or level, found by likelihood (binary segmentation's
first split), with a p-value that pays for having searched every split (Bonferroni)."""

from __future__ import annotations

import math
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


def level_change(
    ns: list[int], sums: list[float], squares: list[float], min_side: int = 2
) -> Change | None:
    """The split of daily groups of values (count, sum, sum of squares per day — e.g. of
    log durations) with the largest two-sample z statistic over the runs themselves.

    Means over runs, not daily medians: a step whose runs come in two speeds has an
    unstable daily median but a stable mean, and only a real shift moves the mean.
    """
    days = len(ns)
    if days < 2 * min_side or sum(ns) < 2:
        return None
    best: tuple[float, int, float, float] | None = None
    for t in range(min_side, days - min_side + 1):
        n1, n2 = sum(ns[:t]), sum(ns[t:])
        if n1 < 2 or n2 < 2:
            continue
        m1, m2 = sum(sums[:t]) / n1, sum(sums[t:]) / n2
        within = sum(squares) - n1 * m1 * m1 - n2 * m2 * m2
        sd = math.sqrt(max(within, 0.0) / (n1 + n2 - 2))
        z = abs(m2 - m1) / max(sd * math.sqrt(1 / n1 + 1 / n2), 1e-9)
        if best is None or z > best[0]:
            best = (z, t, m1, m2)
    if best is None:
        return None
    z, t, m1, m2 = best
    p = min(1.0, math.erfc(z / math.sqrt(2)) * (days - 2 * min_side + 1))
    return Change(at=t, before=m1, after=m2, p_value=p)
