"""Benchmark: whole ``steptrace`` commands on the demo store, as a person runs them.

DESIGN §8: ``steptrace --help`` ≤ 0.5 s and ``steptrace why`` ≤ 0.5 s wall on the demo
store. Each command runs ``repeat`` times as a fresh process of the console script; wall
time and the process's own CPU time (user + system, from ``getrusage``) are reported as
min and median, beside the load average, since wall time on a busy machine includes
waiting for a core. The demo store is made once (``steptrace demo`` in a scratch folder)
unless ``--store`` names one. The share of ``why``'s import time that each top-level
package takes (``python -X importtime``) says where the rest of the time goes.

    python -m bench.cli [--repeat N] [--store sqlite:///…] [--json] [--write-docs]
    steptrace bench cli [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.docs import DOCS, replace_section
from bench.machine import describe_line, load_line

__all__ = ["main", "run", "write_docs"]

SECTION = "## The command line: whole commands"
READ_PATH_HISTORY = (
    "`runs`, `show` and `why` read the store through the lean reader\n"
    "(`tracer/store/reader.py`: `sqlite3` or `psycopg` alone), so neither SQLAlchemy nor the\n"
    "SQLModel tables are imported. Before it, the store's import (SQLAlchemy's ORM and the\n"
    "tables, ~300 ms) made `why latest` 0.595 s min / 0.658 s median wall (load 0.90), and\n"
    "before the diagnoser was left out of reading a stored diagnosis, 1.53 / 1.71 s."
)
BUDGET_S = 0.5
COMMANDS = (("--help",), ("why", "latest"), ("show", "latest"), ("runs",))
STEPTRACE = str(Path(sys.executable).with_name("steptrace"))


def run(repeat: int = 10, store: str | None = None) -> dict[str, Any]:
    """Time every command of :data:`COMMANDS`; make the demo store first if needed."""
    with tempfile.TemporaryDirectory(prefix="steptrace-bench-cli-") as scratch:
        if store is None:
            subprocess.run(
                [STEPTRACE, "demo", "--json"],
                cwd=scratch,
                env=_env(None),
                capture_output=True,
                check=True,
            )
            store = f"sqlite:///{Path(scratch) / '.steptrace' / 'trace.db'}"
        env = _env(store)
        result: dict[str, Any] = {"repeat": repeat, "load_before": load_line()}
        for command in COMMANDS:
            result[" ".join(command)] = _time(command, env, scratch, repeat)
        result["why_imports_ms"] = _import_shares(env, scratch)
    result["load_after"] = load_line()
    result["machine"] = describe_line()
    return result


def _env(store: str | None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    return clean | ({"STEPTRACE_DATABASE_URL": store} if store else {})


def _time(command: tuple[str, ...], env: dict[str, str], cwd: str, repeat: int) -> dict[str, float]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([STEPTRACE, *command], cwd=cwd, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "wall_min_s": round(min(walls), 3),
        "wall_median_s": round(statistics.median(walls), 3),
        "cpu_min_s": round(min(cpus), 3),
        "cpu_median_s": round(statistics.median(cpus), 3),
    }


def _import_shares(env: dict[str, str], cwd: str) -> dict[str, float]:
    """Milliseconds of ``why``'s imports by top-level package, the largest eight."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "orchestrator.cli.app", "why", "latest"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    shares: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            shares[fields[2].strip().split(".")[0]] += int(fields[0])
    total = sum(shares.values())
    top = {name: round(us / 1000, 1) for name, us in shares.most_common(8)}
    return {"total": round(total / 1000, 1), **top}


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite this benchmark's section of docs/benchmarks.md."""
    rows = []
    for name in (" ".join(c) for c in COMMANDS):
        r = result[name]
        verdict = "met" if r["wall_min_s"] <= BUDGET_S else "**missed**"
        rows.append(
            f"| `steptrace {name}` | {r['wall_min_s']} / {r['wall_median_s']} s | "
            f"{r['cpu_min_s']} / {r['cpu_median_s']} s | {verdict} |"
        )
    imports = result["why_imports_ms"]
    shares = ", ".join(f"{k} {v} ms" for k, v in imports.items() if k != "total")
    section = "\n".join(
        [
            SECTION,
            "",
            f"Measured with `{command}` on {result['machine']}; load average "
            f"{result['load_before']} before, {result['load_after']} after. Each command "
            f"ran {result['repeat']} times as a fresh process on the demo store; budget "
            f"{BUDGET_S} s wall (DESIGN §8). CPU time is the process's own (user + system).",
            "",
            "| command | wall min / median | CPU min / median | budget |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            f"`why`'s imports took {imports['total']} ms in all; by package: {shares}.",
            "",
            READ_PATH_HISTORY,
            "",
        ]
    )
    replace_section(SECTION, section, docs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--store", help="A store URL (default: make the demo store).")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    result = run(repeat=args.repeat, store=args.store)
    if args.write_docs:
        write_docs(result, command=f"python -m bench.cli --repeat {args.repeat} --write-docs")
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
