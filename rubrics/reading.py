"""Reading a run's evidence the way every rubric needs it, each value with its exact path.

- :func:`landed`: the value a destination field holds after its step (the step's output
  at the argument's path, which is where a write step reports what the tool stored), or
  the argument itself when the output does not carry it or the step has not run yet;
- :func:`origin_value`: the source value a field came from;
- :func:`expected`: that source value passed through the pipeline's own mappings;
- :func:`concept_values`: every value of a concept in a step's output (``priority`` and
  ``priority_label``; ``state.name`` and ``state.type``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rubrics.concepts import concept_of
from rubrics.evidence import MISSING, FieldLink, SourceRef, ValueMapping, get_path
from rubrics.model import CheckContext, EvidenceItem, Segment, input_path, output_path


@dataclass(frozen=True)
class Seen:
    """A value and where it was read."""

    value: Any
    item: EvidenceItem


def seen(step: str, path: str, value: Any) -> Seen:
    return Seen(value, EvidenceItem(step=step, path=path, value=value))


def landed(ctx: CheckContext, link: FieldLink) -> Seen | None:
    """The value ``link``'s destination holds, or is about to be sent."""
    step = ctx.evidence.step(link.step)
    args = ctx.evidence.arguments(link.step)
    if step is not None and step.status == "succeeded" and step.output is not None:
        for path in _output_paths(link, args):
            value = get_path(step.output, path)
            if value is not MISSING:
                return seen(link.step, output_path(link.step, *path), value)
    if args is None:
        return None
    value = get_path(args, link.arg)
    if value is MISSING:
        return None
    return seen(link.step, input_path(link.step, *link.arg), value)


def _output_paths(link: FieldLink, args: dict[str, Any] | None) -> Iterator[tuple[Segment, ...]]:
    """Where a write step's output reports an argument: the same path, or its aliases."""
    yield link.arg
    last = link.arg[-1] if link.arg else ""
    if last == "key_value" and args and isinstance(args.get("key_column"), str):
        yield ("values", args["key_column"])  # an upsert's key lands in its key column
    if isinstance(last, str) and last.endswith("_email"):
        yield (*link.arg[:-1], last.removesuffix("_email"), "email")
    if isinstance(last, str) and last in ("state", "status"):
        yield (*link.arg, "name")


def origin_value(ctx: CheckContext, ref: SourceRef) -> Seen | None:
    """The value at a field's origin (a step's output, or the trigger)."""
    if ref.step == "trigger":
        value = get_path(ctx.evidence.trigger, ref.path)
        return (
            None if value is MISSING else seen("trigger", output_path("trigger", *ref.path), value)
        )
    step = ctx.evidence.step(ref.step)
    if step is None or step.output is None:
        return None
    value = get_path(step.output, ref.path)
    if value is MISSING:
        return None
    return seen(ref.step, output_path(ref.step, *ref.path), value)


def single_origin(ctx: CheckContext, link: FieldLink) -> Seen | None:
    """The source value of an exact link (one origin, mappings only)."""
    if not link.exact or len(link.origins) != 1:
        return None
    return origin_value(ctx, link.origins[0])


def expected(link: FieldLink, source: Any) -> Any:
    """``source`` passed through the link's mappings, as the transform would."""
    value = source
    for mapping in link.mappings:
        value = apply_mapping(mapping, value)
    return value


def apply_mapping(mapping: ValueMapping, value: Any) -> Any:
    if value is None and mapping.has_default:
        return mapping.default
    if mapping.values is not None:
        key = _key_text(value)
        if key in mapping.values:
            value = mapping.values[key]
        elif mapping.has_default:
            value = mapping.default
    if mapping.date_format is not None and value is not None:
        value = _format_date(value, mapping.date_format)
    if mapping.max_length is not None and isinstance(value, str):
        value = value[: mapping.max_length]
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _format_date(value: Any, fmt: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return value
    return parsed.strftime(fmt)


def concept_values(
    step: str, output: Any, concept: str, prefix: tuple[Segment, ...] = ()
) -> list[Seen]:
    """Every scalar in ``output`` whose key path names ``concept`` (depth-first)."""
    found: list[Seen] = []
    if isinstance(output, dict):
        for key, value in output.items():
            path = (*prefix, key)
            named = concept_of(str(key)) == concept or (
                bool(prefix) and concept_of(str(prefix[-1])) == concept
            )
            if named and isinstance(value, str | int | float) and not isinstance(value, bool):
                found.append(seen(step, output_path(step, *path), value))
            elif isinstance(value, dict):
                found += concept_values(step, value, concept, path)
    return found


def source_concept_values(ctx: CheckContext, concept: str) -> list[Seen]:
    """The source read's values of ``concept``."""
    source = ctx.params.source_step
    step = ctx.evidence.step(source) if source else None
    if step is None or source is None:
        return []
    return concept_values(source, step.output, concept)


def message_text(ctx: CheckContext, step_id: str, text_arg: str) -> Seen | None:
    """A message's text: as posted (output) or as about to be posted (arguments)."""
    step = ctx.evidence.step(step_id)
    if (
        step is not None
        and isinstance(step.output, dict)
        and isinstance(step.output.get("text"), str)
    ):
        return seen(step_id, output_path(step_id, "text"), step.output["text"])
    args = ctx.evidence.arguments(step_id)
    if args is not None and isinstance(args.get(text_arg), str):
        return seen(step_id, input_path(step_id, text_arg), args[text_arg])
    return None


def argument(ctx: CheckContext, step_id: str, *path: Segment) -> Seen | None:
    args = ctx.evidence.arguments(step_id)
    if args is None:
        return None
    value = get_path(args, tuple(path))
    if value is MISSING:
        return None
    return seen(step_id, input_path(step_id, *path), value)


def strings(
    value: Any, path: tuple[Segment, ...] = ()
) -> Iterator[tuple[tuple[Segment, ...], str]]:
    """Every string leaf of ``value`` with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, index))
