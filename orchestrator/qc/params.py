"""What a pipeline means, for the rubrics: :class:`rubrics.evidence.PipelineParams` from a
:class:`~orchestrator.spec.pipeline.PipelineSpec`.

Every destination field of a write step is traced back through the JMESPath of its
argument and the ``transform`` map entries it reads (their value maps, defaults, date
formats and length caps) to the tool output or trigger path it came from. Nothing here
names a pipeline: the same walk serves every spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jmespath

from orchestrator.spec.ops import OPS
from orchestrator.spec.pipeline import (
    TRIGGER,
    ArgValue,
    MapEntry,
    PipelineSpec,
    StepSpec,
    step_expressions,
)
from rubrics.concepts import concept_of
from rubrics.evidence import (
    FieldLink,
    MessageParams,
    PipelineParams,
    RoutingRule,
    SourceRef,
    StepParams,
    ValueMapping,
)
from tracer.lineage import ANY_ITEM, expression_reads

Segment = str | int
Trace = tuple[list[SourceRef], list[ValueMapping], bool]
MESSAGE_ARGS = ("channel", "text")


def pipeline_params(spec: PipelineSpec) -> PipelineParams:
    """The rubrics' view of ``spec``."""
    steps = [
        _step_params(step).model_copy(update={"read_paths": _read_paths(spec, step)})
        for step in spec.steps
    ]
    source = next((s.id for s in steps if s.reads), None)
    messages = [_message(step) for step in spec.steps if _is_message(step)]
    message_ids = {m.step for m in messages}
    writers = [s for s in spec.steps if _writes(s) and s.id not in message_ids]
    fields = [link for step in writers for link in _field_links(spec, step)]
    return PipelineParams(
        name=spec.name,
        source_step=source,
        steps=steps,
        fields=fields,
        routing=_routing(spec, messages),
        messages=messages,
        required=_required(writers, fields),
    )


def _step_params(step: StepSpec) -> StepParams:
    op = OPS.get(step.op)
    tool = op.tool if op else None
    writes = bool(op and op.writes)
    return StepParams(
        id=step.id,
        op=step.op,
        tool=tool,
        reads=tool is not None and not writes,
        writes=writes,
        max_attempts=step.retry.maximum_attempts,
        timeout_ms=int(step.timeout_seconds * 1000),
        projections=_projections(step),
    )


def _read_paths(spec: PipelineSpec, source: StepSpec) -> list[tuple[str | int, ...]]:
    """The scalar paths of ``source``'s output that other steps read (no list items):
    where a vanished field would be hidden by a default or a mapping downstream."""
    found: dict[tuple[str | int, ...], None] = {}
    for step in spec.steps:
        if step.id == source.id:
            continue
        for _, expression in step_expressions(step):
            for path in expression_reads(expression).reads:
                if len(path) > 1 and path[0] == source.id and ANY_ITEM not in path:
                    found.setdefault(tuple(path[1:]), None)
    return list(found)


def _projections(step: StepSpec) -> list[tuple[str | int, ...]]:
    """The paths ``step``'s expressions read across the items of a list."""
    found: dict[tuple[str | int, ...], None] = {}
    for _, expression in step_expressions(step):
        for path in expression_reads(expression).reads:
            if ANY_ITEM in path[:-1]:
                found.setdefault(path, None)
    return list(found)


def _writes(step: StepSpec) -> bool:
    op = OPS.get(step.op)
    return bool(op and op.writes)


def _is_message(step: StepSpec) -> bool:
    op = OPS.get(step.op)
    if op is None or op.args is None or not op.writes:
        return False
    return all(name in op.args.model_fields for name in MESSAGE_ARGS)


def _message(step: StepSpec) -> MessageParams:
    mention = next(
        (name for name in step.args if concept_of(name) == "assignee" or "mention" in name), None
    )
    return MessageParams(step=step.id, mention_arg=mention)


def _leaves(
    value: ArgValue, path: tuple[Segment, ...] = ()
) -> Iterator[tuple[tuple[Segment, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _field_links(spec: PipelineSpec, step: StepSpec) -> list[FieldLink]:
    links = []
    for arg, expression in _leaves(step.args):
        origins, mappings, exact = trace_expression(spec, expression)
        name = next((str(s) for s in reversed(arg) if isinstance(s, str)), "")
        concept = concept_of(name)
        if not concept and exact and origins:
            concept = concept_of(
                next((str(s) for s in reversed(origins[0].path) if isinstance(s, str)), "")
            )
        links.append(
            FieldLink(
                step=step.id,
                arg=arg,
                name=name,
                concept=concept,
                expression=expression,
                origins=origins,
                mappings=mappings,
                exact=exact,
            )
        )
    return links


def trace_expression(spec: PipelineSpec, expression: str, depth: int = 0) -> Trace:
    """Where ``expression``'s value comes from: origins, the mappings on the way, and
    whether it is exactly the one origin passed through those mappings."""
    reads = expression_reads(expression)
    if not reads.reads or depth > len(spec.steps):
        return [], [], False
    if reads.result is not None and len(reads.reads) == 1:
        return _trace_path(spec, reads.result, depth)
    origins: list[SourceRef] = []
    for path in reads.reads:
        origins += _trace_path(spec, path, depth)[0]
    return list(dict.fromkeys(origins)), [], False


def _trace_path(spec: PipelineSpec, path: tuple[Segment, ...], depth: int) -> Trace:
    root, rest = str(path[0]), tuple(path[1:])
    if root == TRIGGER:
        return [SourceRef(step=TRIGGER, path=rest)], [], True
    step = spec.step(root)
    if step.map is None:
        return [SourceRef(step=root, path=rest)], [], True
    entry = step.map.get(str(rest[0])) if rest else None
    if entry is None:
        return [SourceRef(step=root, path=rest)], [], False
    source = entry if isinstance(entry, str) else entry.source
    origins, mappings, exact = trace_expression(spec, source, depth + 1)
    mapping = _mapping(root, str(rest[0]), entry)
    if mapping is not None:
        mappings = [*mappings, mapping]
    if len(rest) > 1:  # a path inside a mapped value: exact only when it was copied as is
        if not exact or mappings:
            return origins, mappings, False
        origins = [o.model_copy(update={"path": (*o.path, *rest[1:])}) for o in origins]
    return origins, mappings, exact


def _mapping(step_id: str, field: str, entry: MapEntry | str) -> ValueMapping | None:
    if isinstance(entry, str):
        return None
    has_default = "default" in entry.model_fields_set
    if (
        entry.values is None
        and not has_default
        and entry.date_format is None
        and entry.max_length is None
    ):
        return None
    return ValueMapping(
        step=step_id,
        field=field,
        values=entry.values,
        has_default=has_default,
        default=entry.default,
        date_format=entry.date_format,
        max_length=entry.max_length,
    )


def _routing(spec: PipelineSpec, messages: list[MessageParams]) -> RoutingRule | None:
    """The first message step whose channel is computed from the run, not a literal."""
    for message in messages:
        expression = spec.step(message.step).args.get(message.channel_arg)
        if not isinstance(expression, str) or not expression_reads(expression).reads:
            continue
        rule = _rule_expression(spec, expression)
        origins = trace_expression(spec, rule)[0]
        channels = sorted(set(_literals(rule)))
        return RoutingRule(
            step=message.step,
            arg=(message.channel_arg,),
            expression=rule,
            channels=channels,
            origins=origins,
            conditional=len(channels) > 1,
        )
    return None


def _rule_expression(spec: PipelineSpec, expression: str) -> str:
    """Follow plain copies through transforms to the expression that decides."""
    for _ in spec.steps:
        reads = expression_reads(expression)
        if reads.result is None or len(reads.reads) != 1 or len(reads.result) != 2:
            return expression
        if str(reads.result[0]) == TRIGGER:  # the trigger decides: nothing to follow
            return expression
        step = spec.step(str(reads.result[0]))
        entry = (step.map or {}).get(str(reads.result[1]))
        if entry is None or (isinstance(entry, MapEntry) and entry.values is not None):
            return expression
        expression = entry if isinstance(entry, str) else entry.source
    return expression


def _literals(expression: str) -> list[str]:
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "literal" and isinstance(node.get("value"), str):
            found.append(node["value"])
        for child in node.get("children", []):
            if isinstance(child, dict):
                walk(child)

    walk(dict(jmespath.compile(expression).parsed))
    return found


def _required(
    writers: list[StepSpec], fields: list[FieldLink]
) -> list[tuple[str, tuple[Segment, ...]]]:
    """Merge keys, upsert keys and the op's required arguments that come from the run."""
    wanted: list[tuple[str, tuple[Segment, ...]]] = []
    for step in writers:
        op = OPS[step.op]
        names = [n for n, f in op.args.model_fields.items() if f.is_required()] if op.args else []
        wanted += [(step.id, (name,)) for name in names]
        merge_on = step.args.get("merge_on")
        for key in merge_on if isinstance(merge_on, list) else []:
            if isinstance(key, str):
                literal = jmespath.search(key, {})
                if isinstance(literal, str):
                    wanted.append((step.id, ("fields", literal)))
    known = {(link.step, link.arg) for link in fields if link.origins}
    return [item for item in dict.fromkeys(wanted) if item in known]
