"""The capacity model is arithmetic on the scale-out rows, and rewrites only its section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.capacity import SECTION, capacity, section, size, write_docs

ROWS: list[dict[str, Any]] = [
    {
        "workers": 1,
        "runs_per_second": 2.0,
        "latency_p50_ms": 900,
        "latency_p95_ms": 1500,
        "store_write_mean_ms": 12.5,
        "store_write_p95_ms": 25.0,
        "store_bytes_per_run": 30_000,
        "history_bytes_per_run": 20_000,
    },
    {
        "workers": 2,
        "runs_per_second": 5.0,
        "latency_p50_ms": 800,
        "latency_p95_ms": 1400,
        "store_write_mean_ms": 14.0,
        "store_write_p95_ms": 50.0,
        "store_bytes_per_run": 40_000,
        "history_bytes_per_run": 22_000,
    },
]
FIGURES: dict[str, Any] = {
    "runs": 30,
    "concurrency": 8,
    "rows": ROWS,
    "load_average": "0.50 / 0.40 / 0.30 (1 / 5 / 15 min)",
    "load_average_after": "0.60 / 0.40 / 0.30 (1 / 5 / 15 min)",
    "machine": {
        "cpu_model": "Test CPU",
        "cores": 8,
        "memory_gib": 16.0,
        "python": "CPython 3.11",
        "os": "Linux",
    },
}


def test_the_model_is_computed_from_the_rows() -> None:
    model = capacity(ROWS, runs_per_day=864_000, peak_factor=3)

    assert model.runs_per_second == pytest.approx(10.0)
    assert model.peak_runs_per_second == pytest.approx(30.0)
    assert model.store_bytes_per_run == pytest.approx(35_000)  # the rows' mean
    assert model.history_bytes_per_run == pytest.approx(21_000)
    assert model.runs_per_second_per_worker == pytest.approx(2.5)  # the best row, per worker
    assert model.scaling == {1: pytest.approx(1.0), 2: pytest.approx(2.5)}
    assert model.store_bytes_per_day == pytest.approx(864_000 * 35_000)
    assert model.store_bytes_retained == pytest.approx(30 * 864_000 * 35_000)
    assert model.history_bytes_retained == pytest.approx(3 * 864_000 * 21_000)
    assert (model.workers(model.runs_per_second), model.workers(30.0)) == (4, 12)


def test_no_rows_is_an_error_not_a_model() -> None:
    with pytest.raises(ValueError, match="no scale-out rows"):
        capacity([])


def test_sizes_read_in_decimal_units() -> None:
    assert [size(n) for n in (512, 34_215, 34.2e9, 1.026e12)] == [
        "512 B",
        "34.2 KB",
        "34.2 GB",
        "1.03 TB",
    ]


def test_the_section_carries_the_measurement_and_the_model() -> None:
    text = section(FIGURES)

    assert text.startswith(SECTION + "\n")
    assert "--runs 30 --write-docs" in text
    assert "| 2 | 5.0 | 2.50× | 1400 | 14.0 | 50 |" in text
    assert "| trace store (PostgreSQL tables + indexes) | 35 KB |" in text
    assert "| Temporal history | 21 KB |" in text
    # 1 M runs/day: 11.6 runs/s on average, 34.7 at the 3x peak; 2.5 runs/s per worker.
    assert "| runs/s | 11.6 | 34.7 |" in text
    assert "| worker processes at 2.5 runs/s each | 5 | 14 |" in text
    assert "| trace store growth | 35 GB/day | — |" in text
    assert "| Temporal history held at 3-day retention | 63 GB | — |" in text


def test_writing_the_docs_replaces_only_the_measured_inputs(tmp_path: Path) -> None:
    doc = tmp_path / "capacity.md"
    doc.write_text(
        "# Capacity\n\nIntro.\n\n## Measured inputs\n\nold figures\n\n## 1 M runs per day\n\n"
        "Prose that reads the table.\n"
    )
    write_docs(FIGURES, doc)

    text = doc.read_text()
    assert "old figures" not in text
    assert text.startswith("# Capacity\n\nIntro.\n\n## Measured inputs\n")
    assert text.count(SECTION) == 1
    assert "| runs/s | 11.6 | 34.7 |" in text
    assert text.endswith("## 1 M runs per day\n\nProse that reads the table.\n")
