"""Pipeline specs: strict loading with errors that name the file, line and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.spec.pipeline import PipelineSpecError, load_pipeline, parse_pipeline

GOOD = """\
name: tiny
steps:
  - id: fetch_issue
    op: linear.get_issue
    args:
      id: trigger.issue
  - id: normalize
    op: transform
    map:
      title: {from: fetch_issue.title, max_length: 10}
      priority:
        from: fetch_issue.priority
        values: {1: Urgent, 2: High}
        default: Low
  - id: notify
    op: slack.post_message
    args:
      channel: "'triage'"
      text: normalize.title
"""


def problems_of(text: str) -> str:
    with pytest.raises(PipelineSpecError) as info:
        parse_pipeline(text, source="p.yaml")
    return str(info.value)


def test_good_spec_loads_and_has_a_stable_version() -> None:
    loaded = parse_pipeline(GOOD, source="p.yaml")
    assert [s.id for s in loaded.spec.steps] == ["fetch_issue", "normalize", "notify"]
    entry = loaded.spec.step("normalize").map["priority"]  # type: ignore[index]
    assert not isinstance(entry, str)
    assert entry.values == {"1": "Urgent", "2": "High"}
    reformatted = parse_pipeline("# a comment\n" + GOOD, source="q.yaml")
    assert reformatted.version == loaded.version
    changed = parse_pipeline(GOOD.replace("max_length: 10", "max_length: 11"))
    assert changed.version != loaded.version


def test_a_spec_text_is_validated_once_and_shared() -> None:
    first = parse_pipeline(GOOD, source="a.yaml")
    again = parse_pipeline(GOOD, source="b.yaml")
    assert again.spec is first.spec  # one validated, frozen spec per content
    assert (first.source, again.source) == ("a.yaml", "b.yaml")
    assert parse_pipeline(GOOD + "\n# a comment\n").spec is not first.spec


def test_an_invalid_spec_is_reported_every_time_with_its_source() -> None:
    bad = GOOD.replace("linear.get_issue", "linear.get_isue")
    for source in ("a.yaml", "b.yaml"):
        with pytest.raises(PipelineSpecError) as raised:
            parse_pipeline(bad, source=source)
        assert raised.value.source == source


def test_unknown_op_names_line_and_choices() -> None:
    message = problems_of(GOOD.replace("slack.post_message", "slack.post"))
    assert "p.yaml:16: step `notify`: unknown op 'slack.post'" in message
    assert "slack.post_message" in message and "airtable.upsert_record" in message


def test_unknown_key_names_line_and_known_keys() -> None:
    message = problems_of(GOOD.replace("    op: transform\n", "    op: transform\n    mapp: {}\n"))
    assert "p.yaml:9: steps.1.mapp: unknown key 'mapp'" in message
    assert "known: id, op, args, map" in message


def test_unknown_argument_and_missing_argument() -> None:
    message = problems_of(GOOD.replace("text: normalize.title", "txt: normalize.title"))
    assert "has no argument 'txt' (known: channel, text" in message
    assert "op `slack.post_message` needs `text`" in message


def test_reference_to_a_later_or_unknown_step() -> None:
    text = GOOD.replace("id: trigger.issue", "id: normalize.title")
    message = problems_of(text)
    assert "p.yaml:6: step `fetch_issue`, args.id: 'normalize.title' reads 'normalize'" in message
    assert "(known: trigger)" in message
    message = problems_of(GOOD.replace("text: normalize.title", "text: normalise.title"))
    assert "reads 'normalise'" in message and "known: trigger, fetch_issue, normalize" in message


def test_bad_expression_duplicate_id_and_bad_id() -> None:
    message = problems_of(GOOD.replace("text: normalize.title", "text: normalize.[title"))
    assert "not a JMESPath expression" in message
    message = problems_of(GOOD.replace("id: notify", "id: normalize"))
    assert "duplicate step id 'normalize'" in message
    message = problems_of(GOOD.replace("id: notify", "id: Notify-Step"))
    assert "steps.2.id" in message


def test_malformed_yaml_and_non_mapping(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps:\n  - id: a\n    op: [transform\n")
    with pytest.raises(PipelineSpecError, match=r"broken\.yaml: malformed YAML at line \d+"):
        load_pipeline(path)
    assert "a pipeline spec is a mapping" in problems_of("- just\n- a list\n")
    with pytest.raises(PipelineSpecError, match="cannot read the file"):
        load_pipeline(tmp_path / "nope.yaml")


def test_transform_needs_map_and_others_refuse_it() -> None:
    message = problems_of(GOOD.replace("    op: linear.get_issue\n", "    op: transform\n"))
    assert "op `transform` needs a `map:`" in message
    assert "takes no `args:`" in message


def test_example_pipelines_load() -> None:
    for path in sorted(Path("pipelines").glob("*.yaml")):
        load_pipeline(path)
