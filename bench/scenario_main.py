"""The ``python -m bench.<name>`` entry point shared by the benchmarks that run a folder
of scenarios (``localization``, ``qc``): the same flags, the same quiet logs."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Protocol

Result = dict[str, Any]


class Runner(Protocol):
    def __call__(
        self, *, folder: Path | None = ..., progress: Callable[[str], None] | None = ...
    ) -> Coroutine[Any, Any, Result]: ...


def scenario_bench_main(
    name: str,
    description: str | None,
    run: Runner,
    write_docs: Callable[[Result, str], None],
    summary: Callable[[Result], str],
    argv: Sequence[str] | None = None,
) -> None:
    """`python -m bench.<name> [--json] [--write-docs] [--folder DIR]`."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--folder", type=Path, default=None, help="scenario folder")
    args = parser.parse_args(argv)
    for logger in ("temporalio.activity", "temporalio.workflow"):
        # a failing step is what the benchmark is about, not a log-worthy event
        logging.getLogger(logger).setLevel(logging.ERROR)
    result: Result = asyncio.run(
        run(folder=args.folder, progress=lambda m: print(m, file=sys.stderr, flush=True))
    )
    if args.write_docs:
        write_docs(result, f"python -m bench.{name} --write-docs")
    print(json.dumps(result) if args.json else summary(result))
