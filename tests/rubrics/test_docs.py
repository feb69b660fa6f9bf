"""docs/rubrics.md lists every rubric of the registry, as the registry says."""

from __future__ import annotations

from pathlib import Path

from rubrics.docs import replace_table
from rubrics.registry import RUBRICS

DOC = Path(__file__).resolve().parents[2] / "docs" / "rubrics.md"


def test_doc_table_matches_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert replace_table(text) == text, "run `python -m rubrics.docs` to regenerate the table"
    for rubric in RUBRICS:
        assert f"`{rubric.id}`" in text


def test_registry_is_25_to_30_small_rubrics_with_one_sentence_questions() -> None:
    assert 25 <= len(RUBRICS) <= 30
    assert len({r.id for r in RUBRICS}) == len(RUBRICS)
    for rubric in RUBRICS:
        assert rubric.question.endswith("?") and rubric.question.count("?") == 1
        assert rubric.reads, rubric.id
