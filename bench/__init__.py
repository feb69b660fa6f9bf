"""Benchmarks for steptrace's budgets (DESIGN §8); results are written to docs/benchmarks.md.

Each benchmark is a module with `run(...) -> dict[str, object]` and `main()`, runnable as
`python -m bench.<name>`; `bench.machine` describes the machine the figures came from.
"""
