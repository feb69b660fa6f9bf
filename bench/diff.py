"""Benchmark: `structural_diff` against DeepDiff's defaults on two ~1 MB payloads.

Budget (DESIGN §8): the diff of two 1 MB payloads with at most 10 changes takes at most
50 ms, is at least 10x faster than `DeepDiff(t1, t2)` with its defaults, and reports the
same changes. Both are timed in the same process on the same parsed payloads, several
times each and interleaved, and the medians are compared.

The payloads are what steptrace stores for a step that lists Airtable records carrying a
linked Linear issue: a few thousand records with nested fields, unicode text, dates and
numbers, parsed from JSON text as the trace store hands them over. The second payload is
the first with nine edits of the kinds a real drift makes (a renamed option, an int that
became a float, a dropped field, a new field, a date in another format, ...).

    python -m bench.diff                 one readable line
    python -m bench.diff --json          the figures as JSON
    python -m bench.diff --write-docs    also rewrite "## Structural diff" in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from bench.docs import DOCS, replace_section
from bench.machine import describe_line, load_line
from tracer.diff import structural_diff

__all__ = ["build_payloads", "main", "run", "write_docs"]

BUDGET_MS = 50.0
BUDGET_SPEEDUP = 10.0
TARGET_BYTES = 1_000_000
SECTION = "## Structural diff"

_WORDS = [
    "sync", "triage", "billing", "onboarding", "Zürich", "naïve", "café", "東京",
    "délai", "résumé", "🚀 launch", "backlog", "escalate", "invoice", "Ops", "São Paulo",
]  # fmt: skip
_STATES = ["Backlog", "Todo", "In Progress", "In Review", "Done", "Canceled"]
_PRIORITIES = ["Urgent", "High", "Medium", "Low"]


def _record(rng: random.Random, index: int, epoch: datetime) -> dict[str, Any]:
    """One Airtable record with its linked Linear issue, shaped like the real APIs'."""
    created = epoch + timedelta(minutes=37 * index)
    words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 8))]
    return {
        "id": f"rec{index:06d}{rng.randrange(16**6):06x}",
        "createdTime": created.isoformat().replace("+00:00", "Z"),
        "fields": {
            "Name": " ".join(words).capitalize(),
            "Priority": rng.choice(_PRIORITIES),
            "Estimate": rng.choice([1, 2, 3, 5, 8]),
            "Score": round(rng.uniform(0, 100), 2),
            "Done": rng.random() < 0.4,
            "Due": (created.date() + timedelta(days=rng.randint(1, 90))).isoformat(),
            "Tags": sorted({rng.choice(_WORDS) for _ in range(rng.randint(0, 4))}),
            "Notes": None if rng.random() < 0.3 else " ".join(rng.choices(_WORDS, k=12)),
            "Linear Issue": {
                "identifier": f"ENG-{100 + index}",
                "url": f"https://linear.app/acme/issue/ENG-{100 + index}",
                "state": {"name": rng.choice(_STATES), "type": "started"},
                "assignee": {"id": f"usr_{rng.randrange(40)}", "name": rng.choice(_WORDS)},
                "labels": [
                    {"name": rng.choice(_WORDS), "color": f"#{rng.randrange(16**6):06x}"}
                    for _ in range(rng.randint(0, 3))
                ],
            },
        },
    }


def _edit(payload: dict[str, Any], rng: random.Random) -> None:
    """Nine edits, each reported as one change by DeepDiff (10 at most, per the budget)."""
    records = payload["records"]
    picks = rng.sample(range(len(records)), 8)
    fields = [records[i]["fields"] for i in picks]
    fields[0]["Priority"] = "P1 - Urgent"  # a renamed select option
    fields[1]["Estimate"] = float(fields[1]["Estimate"])  # 3 -> 3.0: a type change
    fields[2].pop("Due")  # a dropped field
    fields[3]["Owner"] = {"id": "usr_7", "name": "Zoë"}  # a new field
    day = date.fromisoformat(fields[4]["Due"])
    fields[4]["Due"] = day.strftime("%m/%d/%Y")  # another date format
    fields[5]["Linear Issue"]["state"]["name"] = "Triage"
    fields[6]["Tags"] = [*fields[6]["Tags"], "urgent"]
    fields[7]["Score"] = None  # a number became null
    records.append(_record(rng, len(records), datetime(2026, 11, 1, tzinfo=UTC)))


def build_payloads(
    *, seed: int = 7, target_bytes: int = TARGET_BYTES
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Two parsed payloads (last good run, this run) and the byte size of the first."""
    rng = random.Random(seed)
    epoch = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    records: list[dict[str, Any]] = []
    size = 0
    while size < target_bytes:
        records.append(_record(rng, len(records), epoch))
        size += len(json.dumps(records[-1])) + 2
    good = {"records": records, "offset": f"itr{rng.randrange(16**8):08x}/rec"}
    text = json.dumps(good)
    current = json.loads(text)
    _edit(current, rng)
    # Both sides parsed from text, as the trace store hands them over: nothing shared.
    return json.loads(text), json.loads(json.dumps(current)), len(text.encode())


def _timed(action: Callable[[], object], times: list[float]) -> None:
    """Append the wall time of one call, in ms, starting from a collected heap."""
    gc.collect()
    start = time.perf_counter()
    action()
    times.append((time.perf_counter() - start) * 1000)


def run(*, repeat: int = 5) -> dict[str, object]:
    """Time ours and DeepDiff's defaults `repeat` times each, interleaved; report medians."""
    load_before = load_line()
    t1, t2, size = build_payloads()
    ours_ms: list[float] = []
    theirs_ms: list[float] = []
    for _ in range(repeat):
        _timed(lambda: structural_diff(t1, t2), ours_ms)
        _timed(lambda: DeepDiff(t1, t2), theirs_ms)
    ours = structural_diff(t1, t2)
    same = ours.fast_path and ours.to_dict() == DeepDiff(t1, t2).to_dict()
    ms, deepdiff_ms = statistics.median(ours_ms), statistics.median(theirs_ms)
    speedup = deepdiff_ms / ms
    return {
        "ms": round(ms, 2),
        "deepdiff_ms": round(deepdiff_ms, 1),
        "speedup": round(speedup, 1),
        "same_changes": same,
        "changes": len(ours.rows()),
        "payload_bytes": size,
        "records": len(t1["records"]),
        "repeat": repeat,
        "budget_met": same and ms <= BUDGET_MS and speedup >= BUDGET_SPEEDUP,
        "load_average": load_before,
    }


def write_docs(result: dict[str, object], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Structural diff" section of docs/benchmarks.md, keeping the rest."""
    replace_section(SECTION, _section(result, command), docs)


def _section(result: dict[str, object], command: str) -> str:
    verdict = "met" if result["budget_met"] else "**missed**"
    megabytes = int(str(result["payload_bytes"])) / 1e6
    return f"""{SECTION}

Budget (DESIGN §8): two 1 MB payloads with at most 10 changes diffed in at most
{BUDGET_MS:.0f} ms, at least {BUDGET_SPEEDUP:.0f}x faster than `DeepDiff(t1, t2)` with its
defaults, reporting the same changes. Budget {verdict}.

| | median |
| --- | --- |
| `tracer.diff.structural_diff(t1, t2)` | {result["ms"]} ms |
| `deepdiff.DeepDiff(t1, t2)` | {result["deepdiff_ms"]} ms |
| speed-up | {result["speedup"]}x |
| same changes reported | {"yes" if result["same_changes"] else "NO"} |

Payloads: {result["records"]} Airtable-style records with a linked Linear issue each
(nested fields, unicode, dates), {megabytes:.2f} MB of JSON, parsed from text on both
sides; the second has {result["changes"]} changes (renamed option, int to float, dropped
field, new field, date format, nested state, list item, number to null, appended record).
Both diffs run in one process on the same parsed values, interleaved, {result["repeat"]}
times each; medians shown. "Same changes" means `to_dict()` equals DeepDiff's.

Where the time goes: both payloads are serialized once with `marshal` (in C, 64 sibling
records at a time) to find the strictly equal ones; only the changed records are walked
in Python, and one DeepDiff call compares the differing leaves. The machine is shared
with other work, so timings move with its load (noted below).

- Command: `{command}`
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the run started: {result["load_average"]}
"""


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.diff [--json] [--repeat N] [--write-docs]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.diff", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeat", type=int, default=5, help="timings per side (default 5)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    result = run(repeat=args.repeat)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"structural_diff {result['ms']} ms vs DeepDiff {result['deepdiff_ms']} ms "
            f"({result['speedup']}x), same changes: {result['same_changes']}, "
            f"budget met: {result['budget_met']}"
        )
    if args.write_docs:
        repeat = "" if args.repeat == 5 else f" --repeat {args.repeat}"
        write_docs(result, f"python -m bench.diff --write-docs{repeat}")


if __name__ == "__main__":
    main()
