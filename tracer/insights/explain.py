"""Explanations: under which conditions a failure group happens (MacroBase's DIFF).

For each failure group (the *outlier* class) within its pipeline's runs, every
combination of up to ``max_order`` attribute values (``attrs``: trigger fields, spec
version, hour, weekday, retries) that holds for at least ``min_support`` of the group's
runs is scored by its risk ratio — how much more often a run with the combination fails
this way than a run without it — with the Katz 95 % interval and an exact p-value
(hypergeometric upper tail, i.e. Fisher's exact test). All tested
combinations of all groups are then corrected together (Bonferroni), and a
combination is reported only when its q-value is ≤ ``alpha``, its ratio ≥ ``min_ratio``
(3, MacroBase's default) and the interval's lower end ≥ ``min_ratio / 1.5``. As in
MacroBase, only *minimal* explanations are kept: a
larger combination replaces a smaller one it contains only when it keeps ≥ 90 % of the
smaller one's outlier runs and raises the ratio by half again (``team = OPS and
priority = urgent`` rather than ``team = OPS`` when the failures need both).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from tracer.insights.corpus import Corpus, attr_names
from tracer.insights.groups import build_group_table
from tracer.insights.itemsets import count_itemsets, load_wide
from tracer.insights.stats import RiskRatio, hypergeom_sf, risk_ratio

__all__ = ["DiffSettings", "Explanation", "diff"]

Item = tuple[str, str]


@dataclass(frozen=True)
class DiffSettings:
    min_support: float = 0.05
    min_outliers: int = 5
    min_ratio: float = 3.0  # MacroBase's default
    alpha: float = 0.01
    max_order: int = 3
    keep_share: float = 0.9
    improve: float = 1.5


@dataclass(frozen=True)
class Explanation:
    group_id: str
    pipeline: str
    items: tuple[Item, ...]
    outliers_with: int  # group runs with the condition
    runs_with: int  # pipeline runs with the condition
    outliers: int  # group runs
    runs: int  # pipeline runs
    ratio: RiskRatio
    q_value: float


def diff(corpus: Corpus, settings: DiffSettings | None = None) -> list[Explanation]:
    """The significant, minimal explanations of every failure group, strongest first."""
    s = settings or DiffSettings()
    build_group_table(corpus)
    tested = _test_all(corpus, s)
    # Bonferroni: thousands of combinations per corpus; a false-discovery rate would
    # still let a few chance combinations into every report, and we want none.
    q_values = [min(1.0, e.ratio.p_value * len(tested)) for e in tested]
    passing = [
        Explanation(**{**e.__dict__, "q_value": q})
        for e, q in zip(tested, q_values, strict=True)
        if q <= s.alpha and e.ratio.ratio >= s.min_ratio and e.ratio.low >= s.min_ratio / 1.5
    ]
    names = attr_names(corpus)
    kept: list[Explanation] = []
    for gid in dict.fromkeys(e.group_id for e in passing):
        minimal = _minimal([e for e in passing if e.group_id == gid], s)
        kept.extend(_explain_away(corpus, minimal, names, len(tested), s))
    return sorted(kept, key=lambda e: -e.outliers_with * e.ratio.ratio)


def _explain_away(
    corpus: Corpus, found: list[Explanation], names: list[str], tests: int, s: DiffSettings
) -> list[Explanation]:
    """Keep the strongest explanation of a group, then each next one only if it still
    holds among the runs the kept ones do not cover: a chance combination that merely
    overlaps the real cause's runs is explained away (Bonferroni over all tests)."""
    accepted: list[Explanation] = []
    for e in sorted(found, key=lambda e: -e.ratio.ratio):
        if accepted:
            covered = " OR ".join(f"({_where(a, names)})" for a in accepted)
            k, n, o, total = corpus.query(
                f"""SELECT count(*) FILTER (WHERE group_id = ? AND ({_where(e, names)})),
                    count(*) FILTER (WHERE {_where(e, names)}),
                    count(*) FILTER (WHERE group_id = ?), count(*)
                FROM wide WHERE pipeline = ? AND NOT coalesce({covered}, false)""",
                [e.group_id, e.group_id, e.pipeline],
            )[0]
            p = hypergeom_sf(int(k), int(total), int(o), int(n)) * tests
            if k < s.min_outliers or p > s.alpha or risk_ratio(k, n, o, total).ratio < s.min_ratio:
                continue
        accepted.append(e)
    return accepted


def _where(e: Explanation, names: list[str]) -> str:
    def quote(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return " AND ".join(f"c{names.index(attr)} = {quote(value)}" for attr, value in e.items)


def _test_all(corpus: Corpus, s: DiffSettings) -> list[Explanation]:
    """Test every combination of up to ``max_order`` attribute values that holds for
    enough of a group's runs (:mod:`.itemsets` counts them)."""
    classes = {
        gid: (pipeline, int(outliers), int(runs))
        for gid, pipeline, outliers, runs in corpus.query(
            """SELECT f.group_id, any_value(f.pipeline), count(*), any_value(n.n)
            FROM failures f JOIN (SELECT pipeline, count(*) AS n FROM runs GROUP BY ALL) n
            USING (pipeline) GROUP BY f.group_id HAVING count(*) >= ?""",
            [s.min_outliers],
        )
    }
    if not classes:
        return []
    wide = load_wide(corpus)
    floors = {
        gid: max(s.min_outliers, int(s.min_support * outliers + 0.999))
        for gid, (_, outliers, _) in classes.items()
    }
    tested: list[Explanation] = []
    for count in count_itemsets(wide, floors, s.max_order):
        _, outliers, runs = classes[count.group_id]
        k, matched = count.outliers_with, count.runs_with
        if matched == runs:
            continue  # holds for every run: no information
        approx = risk_ratio(k, matched, outliers, runs)
        # The exact tail is only worth computing where the effect could be reported;
        # the rest still count as tests for the correction.
        strong = approx.ratio >= s.min_ratio and approx.low >= s.min_ratio / 1.5
        p_value = hypergeom_sf(k, runs, outliers, matched) if strong else 1.0
        exact = RiskRatio(approx.ratio, approx.low, approx.high, p_value)
        tested.append(
            Explanation(
                count.group_id, count.pipeline, count.items, k, matched, outliers, runs, exact, 1.0
            )
        )
    return tested


def _minimal(passing: list[Explanation], s: DiffSettings) -> list[Explanation]:
    """Drop a combination unless it improves on every passing combination inside it;
    a combination that improves on its parts replaces them."""
    by_items = {frozenset(e.items): e for e in passing}
    dropped: set[frozenset[Item]] = set()
    for e in sorted(passing, key=lambda e: len(e.items)):
        items = frozenset(e.items)
        inside = [
            by_items[part]
            for size in range(1, len(items))
            for part in map(frozenset, combinations(items, size))
            if part in by_items
        ]
        if not all(_improves(e, t, s) for t in inside):
            dropped.add(items)
            continue
        dropped.update(frozenset(t.items) for t in inside)
    return [e for e in passing if frozenset(e.items) not in dropped]


def _improves(e: Explanation, t: Explanation, s: DiffSettings) -> bool:
    return (
        e.outliers_with >= s.keep_share * t.outliers_with
        and e.ratio.ratio >= s.improve * t.ratio.ratio
    )
