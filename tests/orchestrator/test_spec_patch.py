"""Line-level edits of a pipeline's YAML: the layout and comments stay, the spec still loads."""

from __future__ import annotations

import pytest

from orchestrator.spec.patch import PatchError, SpecText
from orchestrator.spec.pipeline import parse_pipeline

SPEC = """\
name: demo   # a comment that must survive
steps:
  - id: fetch
    op: linear.get_issue
    args:
      id: trigger.issue
  - id: shape
    op: transform
    map:
      title: fetch.title
      priority:
        from: fetch.priority
        values: {1: Urgent, 2: Hgh}
      status:
        from: fetch.state.name
        values:
          Todo: Todo
          Done: Finished
      channel: "fetch.priority == `1` && 'incidents' || 'triage'"
  - id: save
    op: airtable.upsert_record
    args:
      table: "'Issues'"
      merge_on: ["'Title'"]
      fields:
        Title: shape.title
        Priority: shape.priority
"""


def patched(edit: str, *args: object) -> tuple[str, str]:
    text = SpecText(SPEC, "demo.yaml")
    getattr(text, edit)(*args)
    parse_pipeline(text.text)  # still a valid spec
    return text.text, text.diff()


def test_rename_key_keeps_the_expression_and_the_comment() -> None:
    text, diff = patched("rename_key", ("steps", 2, "args", "fields", "Priority"), "Priority Level")
    assert "        Priority Level: shape.priority\n" in text
    assert "# a comment that must survive" in text
    assert diff.startswith("--- a/demo.yaml\n+++ b/demo.yaml\n")
    assert "-        Priority: shape.priority" in diff


def test_replace_value_in_a_flow_map_and_in_a_block_map() -> None:
    text, _ = patched("replace_value", ("steps", 1, "map", "priority", "values", 2), "Hgh", "High")
    assert "values: {1: Urgent, 2: High}" in text
    text, _ = patched(
        "replace_value", ("steps", 1, "map", "status", "values", "Done"), "Finished", None
    )
    assert "          Done: null\n" in text
    assert parse_pipeline(text).spec.step("shape").map["status"].values["Done"] is None  # type: ignore[index,union-attr]


def test_add_map_entry_to_flow_and_block_maps() -> None:
    text, _ = patched("add_map_entry", ("steps", 1, "map", "priority", "values"), 0, "No priority")
    assert "values: {0: No priority, 1: Urgent, 2: Hgh}" in text
    text, _ = patched(
        "add_map_entry", ("steps", 1, "map", "status", "values"), "In Progress", "Working"
    )
    assert "          In Progress: Working\n" in text


def test_a_length_cap_turns_a_plain_entry_into_a_mapping() -> None:
    text, _ = patched("set_entry_option", ("steps", 1, "map", "title"), "max_length", 2000)
    entry = parse_pipeline(text).spec.step("shape").map["title"]  # type: ignore[index]
    assert entry.source == "fetch.title" and entry.max_length == 2000  # type: ignore[union-attr]


def test_replace_token_swaps_one_literal_or_path() -> None:
    text, _ = patched("replace_token", ("steps", 1, "map", "channel"), "'triage'", "'triage-2'")
    assert "'incidents' || 'triage-2'" in text
    with pytest.raises(PatchError, match="not once"):
        SpecText(SPEC, "demo.yaml").replace_token(("steps", 1, "map", "channel"), "'nowhere'", "x")


def test_an_edit_that_cannot_be_placed_is_refused() -> None:
    with pytest.raises(PatchError, match="no line"):
        SpecText(SPEC, "demo.yaml").rename_key(("steps", 9, "args"), "x")
    with pytest.raises(PatchError, match="not found"):
        SpecText(SPEC, "demo.yaml").replace_value(
            ("steps", 1, "map", "priority", "values", 2), "Low", "High"
        )
