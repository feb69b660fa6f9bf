"""``docs/rubrics.md``'s rubric table, generated from the registry."""

from __future__ import annotations

from rubrics.registry import RUBRICS

BEGIN = "<!-- rubric table: generated from rubrics/registry.py by rubrics.docs -->"
END = "<!-- end of rubric table -->"


def rubric_table() -> str:
    """The markdown table of every rubric, between its markers."""
    rows = [
        BEGIN,
        "| id | question | severity | kind | reads |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rubric in RUBRICS:
        reads = "; ".join(rubric.reads)
        rows.append(
            f"| `{rubric.id}` | {rubric.question} | {rubric.severity} | {rubric.kind} | {reads} |"
        )
    rows.append(END)
    return "\n".join(rows)


def replace_table(text: str) -> str:
    """``text`` with the table between the markers regenerated."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + rubric_table() + text[end:]


if __name__ == "__main__":
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "rubrics.md"
    path.write_text(replace_table(path.read_text(encoding="utf-8")), encoding="utf-8")
