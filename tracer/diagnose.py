"""Where a failure started, and what kind of fault it is (DESIGN §5), for any pipeline.

The input is what the tracer recorded: the failed run's snapshots, the same pipeline's
earlier good runs, the lineage of every value, and the symptom (the error of the step
that raised, or the paths of a failed rubric). The walk:

1. errors that say what happened by themselves (a revoked token, a rate limit, an
   outage, a timeout followed by "already exists", a payload over a limit) are
   classified from the error alone, at the step that raised;
2. otherwise the symptom names values (the field in the error, the arguments the error
   message quotes, the rubric's evidence paths). Their lineage is walked back to where
   they came from, and each value is compared with the last good run. The **onset** is
   the most upstream step where an implicated value changed presence, type or shape;
3. if nothing upstream changed form, the value itself is judged: a value the
   destination accepted in an earlier good run means the destination changed under us;
   a new value made by a mapping means the mapping is wrong; a value copied unchanged
   from the source means the source data is bad.

Nothing here knows a tool, an op or a scenario: steps are ``read`` (from a tool),
``write`` (to a tool) or ``pure``; errors are compared by class name, HTTP status and
message. The composition root supplies a :class:`Destination` that knows the tools'
schemas, when it can reach them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tracer.divergence import (
    MISSING,
    RECOGNISED_FORMATS,
    SHAPE,
    STRUCTURAL,
    TYPE,
    change,
    shape,
    text_format,
    value_at,
)
from tracer.faults import FaultClass
from tracer.lineage import ANY_ITEM, INPUT, OUTPUT, Lineage, Link, Node
from tracer.store.records import AttemptError

StepKind = Literal["read", "write", "pure", "other"]
TRIGGER = "trigger"
TYPO_SIMILARITY = 0.75


@dataclass(frozen=True)
class StepSnapshot:
    """One step of one run as recorded: its last attempt's handoffs, and every error."""

    step: str
    index: int
    op: str
    kind: StepKind
    status: str
    input: Any
    output: Any
    errors: tuple[AttemptError, ...] = ()


@dataclass(frozen=True)
class RunSnapshot:
    run_id: str
    trigger: Any
    steps: dict[str, StepSnapshot]

    def value(self, node: Node) -> tuple[bool, Any]:
        if node.step == TRIGGER:
            return value_at(self.trigger, node.path)
        snapshot = self.steps.get(node.step)
        if snapshot is None:
            return False, None
        return value_at(snapshot.input if node.side == INPUT else snapshot.output, node.path)


@dataclass(frozen=True)
class Probe:
    """The object a good run read, read again now (see ``orchestrator.diagnosis.source_probe``)."""

    ok: bool
    output: Any = None
    error_class: str | None = None


@dataclass(frozen=True)
class Symptom:
    """What went wrong: a step's error, or a failed rubric's evidence paths."""

    step: str | None
    error: AttemptError | None = None
    nodes: tuple[Node, ...] = ()
    rubrics: tuple[str, ...] = ()
    suggested_class: FaultClass | None = None
    """A fault class the failed rubric stands for (a duplicate record, a stale overwrite)."""


class Destination(Protocol):
    """What the destination tool accepts at one input of a write step, if known."""

    def options(self, step: str, path: tuple[str | int, ...]) -> list[str] | None:
        """The values the destination offers there (select options, channels), if any."""
        ...

    def kind_matches(self, step: str, path: tuple[str | int, ...], value: Any) -> bool | None:
        """Whether the field's type takes values of ``value``'s kind (a number for a
        number field); ``None`` when unknown."""
        ...


class NoDestination:
    """No schema reachable: the walk relies on the recorded runs alone."""

    def options(self, step: str, path: tuple[str | int, ...]) -> list[str] | None:
        return None

    def kind_matches(self, step: str, path: tuple[str | int, ...], value: Any) -> bool | None:
        return None


@dataclass(frozen=True)
class Implicated:
    node: Node
    good: Any
    now: Any
    change: str | None


@dataclass(frozen=True)
class Localization:
    """The onset, the class, and why; ``focus`` is the value a fix should act on."""

    onset_step: str | None
    fault_class: FaultClass
    reason: str
    implicated: tuple[Implicated, ...] = ()
    focus: Node | None = None
    walked: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def locate(
    run: RunSnapshot,
    symptom: Symptom,
    lineage: Lineage,
    good_runs: Sequence[RunSnapshot],
    destination: Destination | None = None,
    probes: Mapping[str, Probe] | None = None,
) -> Localization:
    """The onset step and fault class of ``run``'s failure; see the module docstring.

    ``probes`` are the good run's source objects read again now, by read step: they tell
    a source that changed from one bad record.
    """
    destination = destination or NoDestination()
    probes = probes or {}
    if symptom.error is not None and not symptom.nodes:
        by_error = classify_error(run, symptom)
        if by_error is not None:
            return by_error
    starts = symptom.nodes or implicated_nodes(run, symptom, lineage)
    if not starts:
        return _nothing_implicated(run, symptom, probes)
    walk = _Walk(run, symptom, lineage, good_runs, destination, starts, probes)
    return walk.finding()


# --- 1. errors that speak for themselves ----------------------------------------------

_TIMEOUT_CLASSES = {"ConnectorTimeoutError", "TimeoutError"}
_TRANSIENT_CLASSES = {"TransientError", "ConnectorTimeoutError", "MalformedResponseError"}
_LIMIT_CLASSES = {"PayloadTooLarge", "PayloadTooLargeError"}
_ALREADY = re.compile(r"already exists?|duplicate", re.IGNORECASE)
_TOO_LONG = re.compile(
    r"too ?long|too ?large|exceeds? the (maximum|limit)|longer than|over the limit", re.IGNORECASE
)


def classify_error(run: RunSnapshot, symptom: Symptom) -> Localization | None:
    """A finding from the error alone, or ``None`` when the data must be examined."""
    error = symptom.error
    assert error is not None
    step = symptom.step
    earlier = run.steps[step].errors[:-1] if step in run.steps else ()
    fault = _error_class(error, earlier)
    if fault is None:
        return None
    detail = {"error_class": error.error_class, "status": error.status, "code": error.code}
    implicated: tuple[Implicated, ...] = ()
    focus = None
    if fault == "payload_limit" and step is not None:
        focus = _largest_input(run, step, error)
        if focus is not None:
            present, value = run.value(focus)
            note = _size_note(value) if present else None
            implicated = (Implicated(focus, None, note, "size"),)
            detail["limit"] = _limit_in(error.message)
    return Localization(
        step, fault, f"error:{fault}", implicated, focus, (step,) if step else (), detail
    )


def _error_class(error: AttemptError, earlier: Sequence[AttemptError]) -> FaultClass | None:
    name = error.error_class
    if name == "AuthError" or error.status == 401:
        return "auth"
    if name == "RateLimitError" or error.status == 429:
        return "rate_limited"
    timed_out_before = any(
        e.error_class in _TIMEOUT_CLASSES or e.status in (408, 504) for e in earlier
    )
    if timed_out_before and (name == "ConflictError" or _ALREADY.search(error.message)):
        return "duplicate_write"
    if name == "ConflictError" or error.status == 409:
        return "conflict"
    if (
        name in _LIMIT_CLASSES
        or error.status == 413
        or _TOO_LONG.search(f"{error.code} {error.message}")
    ):
        return "payload_limit"
    if name in _TRANSIENT_CLASSES or (error.status is not None and error.status >= 500):
        return "transient"
    return None


def _largest_input(run: RunSnapshot, step: str, error: AttemptError) -> Node | None:
    """The value the limit is about: the error's field, else the step's longest text."""
    snapshot = run.steps.get(step)
    if snapshot is None:
        return Node(step, INPUT, _split(error.field)) if error.field else None
    texts = list(_texts(snapshot.input, ()))
    if error.field:
        named = [path for path, _ in texts if path and _matches_field(path, error.field)]
        return Node(step, INPUT, named[0] if named else _split(error.field))
    if not texts:
        return None
    path, _ = max(texts, key=lambda found: len(found[1]))
    return Node(step, INPUT, path)


def _texts(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))


def _limit_in(message: str) -> int | None:
    """A size limit the message names (``255`` in "longer than 255 characters")."""
    numbers = [int(n) for n in re.findall(r"\b(\d{2,9})\b", message)]
    return min(numbers) if numbers else None


def _found(value: tuple[bool, Any], node: Node) -> bool:
    """Present; for a path across a list's items, present in at least one item."""
    present, found = value
    return present and (found != [] if ANY_ITEM in node.path else True)


def _keys_beside(run: RunSnapshot, node: Node) -> set[str]:
    """The keys of the object(s) that hold ``node`` (every item's, across a list)."""
    present, parent = run.value(Node(node.step, node.side, node.path[:-1]))
    parents = parent if isinstance(parent, list) else [parent]
    return {str(k) for p in parents if present and isinstance(p, dict) for k in p}


def _key_text(value: Any) -> str:
    """A value as a value map's key (the spec reads `1: Urgent` as the text "1")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _all_far(value: Any, options: list[str]) -> bool:
    """Every refused element (a string, or the items of a list the destination does not
    offer) is far from every option: removed options, not typos."""
    values = value if isinstance(value, list) else [value]
    refused = [v for v in values if str(v) not in options]
    return bool(refused) and all(
        isinstance(v, str)
        and not difflib.get_close_matches(v, options, n=1, cutoff=TYPO_SIMILARITY)
        for v in refused
    )


def _size_note(value: Any) -> str:
    return f"{len(str(value))} characters"


# --- 2. the values the symptom names --------------------------------------------------

_QUOTED = re.compile(r"""["'“‘]([^"'”’]{1,200})["'”’]""")


def implicated_nodes(run: RunSnapshot, symptom: Symptom, lineage: Lineage) -> tuple[Node, ...]:
    """The failing step's values the error points at: its ``field``, or what it quotes."""
    error = symptom.error
    step = symptom.step
    if error is None or step is None:
        return ()
    snapshot = run.steps.get(step)
    expressions = lineage.step(step)
    if snapshot is None or expressions is None:
        return ()
    if () in expressions.inputs:  # step-level lineage: the input as a whole
        return (Node(step, INPUT, ()),)
    if snapshot.kind == "pure":
        if error.field and _split(error.field)[:1] in [p[:1] for p in expressions.outputs]:
            return (Node(step, OUTPUT, _split(error.field)),)
        return ()
    candidates = list(expressions.inputs)
    by_field = [p for p in candidates if error.field and _matches_field(p, error.field)]
    if by_field:
        return tuple(Node(step, INPUT, p) for p in by_field)
    quoted = {q.strip().lower() for q in _QUOTED.findall(error.message)}
    found = []
    for path in candidates:
        present, value = run.value(Node(step, INPUT, path))
        key = str(path[-1]).lower() if path else ""
        text = str(value).strip().lower() if present and value is not None else None
        if key in quoted or (text and text in quoted):
            found.append(Node(step, INPUT, path))
    return tuple(found)


def _matches_field(path: tuple[str | int, ...], field_name: str) -> bool:
    wanted = field_name.lower()
    dotted = ".".join(str(p) for p in path).lower()
    return dotted == wanted or str(path[-1]).lower() == wanted or dotted.endswith("." + wanted)


def _split(dotted: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split(".") if p)


def _nothing_implicated(
    run: RunSnapshot, symptom: Symptom, probes: Mapping[str, Probe]
) -> Localization:
    """The error names no value of ours: the tool refused the call, or its own answer."""
    step = symptom.step
    walked = (step,) if step else ()
    kind = run.steps[step].kind if step in run.steps else "other"
    error = symptom.error
    if kind == "read" and error is not None:
        return Localization(
            step, _read_refused(error, probes.get(step or "")), "read_refused", (), None, walked
        )
    unknown_field = error is not None and error.error_class == "UnknownFieldError"
    by_kind: dict[str, FaultClass] = {"write": "destination_schema_drift", "pure": "mapping_error"}
    fault = by_kind.get(kind, "unknown")
    return Localization(
        step, fault if unknown_field else "unknown", "no_value_named", (), None, walked
    )


def _read_refused(error: AttemptError, probe: Probe | None) -> FaultClass:
    """A read failed on the tool's answer: did the source change, or is this record bad?"""
    if probe is not None:
        return "invalid_source_data" if probe.ok else "upstream_schema_drift"
    if error.error_class != "UnknownFieldError" and _quotes_free_text(error):
        return "invalid_source_data"
    return "upstream_schema_drift"


def _quotes_free_text(error: AttemptError) -> bool:
    """The tool's answer was refused for a value that is free text, not another format:
    the data is bad (``'soon'`` as a date), the schema did not change (``'07/11/2026'``)."""
    quoted = [q for q in _QUOTED.findall(error.message) if q != error.field]
    formats = {text_format(q) for q in quoted}
    return bool(formats) and not formats & RECOGNISED_FORMATS and "text" in formats


_VALIDATION_CLASSES = {
    "ValidationError",
    "UnknownFieldError",
    "InvalidValueError",
    "NotFoundError",
    "TransformError",
    "InvalidArguments",
}


# --- 3. walking back ------------------------------------------------------------------


class _Walk:
    def __init__(
        self,
        run: RunSnapshot,
        symptom: Symptom,
        lineage: Lineage,
        good_runs: Sequence[RunSnapshot],
        destination: Destination,
        starts: tuple[Node, ...],
        probes: Mapping[str, Probe],
    ) -> None:
        self.probes = probes
        self.run = run
        self.symptom = symptom
        self.lineage = lineage
        self.good_runs = good_runs
        self.destination = destination
        self.starts = starts
        self.links: list[Link] = [link for s in starts for link in lineage.walk(s)]
        nodes = list(dict.fromkeys([*starts, *(link.source for link in self.links)]))
        self.implicated = tuple(self._compare(node) for node in nodes)

    def _compare(self, node: Node) -> Implicated:
        now = self.run.value(node)
        good = self.good_runs[0].value(node) if self.good_runs else (False, None)
        return Implicated(node, good[1], now[1], change(good, now))

    def _order(self, node: Node) -> tuple[int, int]:
        if node.step == TRIGGER:
            return (-1, 0)
        snapshot = self.run.steps.get(node.step)
        index = snapshot.index if snapshot else len(self.lineage.order)
        return (index, 0 if node.side == INPUT else 1)

    @property
    def walked(self) -> tuple[str, ...]:
        steps = sorted(
            {i.node.step for i in self.implicated}, key=lambda s: self._order(Node(s, OUTPUT, ()))
        )
        return tuple(reversed(steps))

    def finding(self) -> Localization:
        return (
            self._changed_by_destination()
            or self._wrong_path()
            or self._changed_form()
            or self._judge_value()
        )

    def _changed_by_destination(self) -> Localization | None:
        """A tool answered a write with another value than we sent, where in the good run
        it echoed ours: the change happened in the destination (a person's edit won, the
        tool rewrote it), not in our pipeline."""
        for link in self.links:
            node, source = link.node, link.source
            if link.derived or node.step != source.step or node.side != OUTPUT:
                continue
            sent, stored = self.run.value(source), self.run.value(node)
            if not (sent[0] and stored[0]) or sent[1] == stored[1]:
                continue
            if any(g.value(source) == g.value(node) and g.value(node)[0] for g in self.good_runs):
                return self._make(
                    node.step, "conflict", "changed_by_destination", node, sent=sent[1]
                )
        return None

    def _make(
        self, onset: str | None, fault: FaultClass, reason: str, focus: Node | None, **detail: Any
    ) -> Localization:
        if self.symptom.suggested_class and reason != "structural":
            fault = self.symptom.suggested_class
        return Localization(onset, fault, reason, self.implicated, focus, self.walked, detail)

    def _wrong_path(self) -> Localization | None:
        """An expression reads a path its source never had (now or in any good run)."""
        reads = [(link.source, link.node) for link in self.links]
        reads += [
            (start, reader) for start in self.starts for reader in self.lineage.readers(start)
        ]
        for source, reader in reads:
            if source.side != OUTPUT or not source.path or source.step == reader.step:
                continue
            keys = _keys_beside(self.run, source)
            if not keys or self._ever_there(source):
                continue
            closest = difflib.get_close_matches(str(source.path[-1]), sorted(keys), n=1, cutoff=0.5)
            return self._make(
                reader.step,
                "mapping_error",
                "missing_path",
                reader,
                path=str(source),
                read=(source.step, *source.path),
                closest=closest[0] if closest else None,
            )
        return None

    def _ever_there(self, node: Node) -> bool:
        return any(_found(r.value(node), node) for r in (self.run, *self.good_runs))

    def _changed_form(self) -> Localization | None:
        """The most upstream value that changed presence, type or shape."""
        changed = [i for i in self.implicated if i.change in STRUCTURAL and self._is_real_change(i)]
        if not changed:
            return None
        first = min(changed, key=lambda i: self._order(i.node))
        node = first.node
        kind = self._kind(node.step)
        fault: FaultClass
        if node.step == TRIGGER:
            # The request itself lacks the value (a mistyped trigger key): bad input, not
            # a source that changed; nothing in the pipeline is to be patched.
            fault = "invalid_source_data"
        elif kind == "read":
            fault = self._source_fault(first)
        elif kind == "write":
            fault = "destination_schema_drift"
        elif kind == "pure":
            fault = "mapping_error"
        else:  # a hand-written step: its output changed form, for reasons it alone knows
            fault = "unknown"
        onset = self._reader_of_trigger() if node.step == TRIGGER else node.step
        return Localization(
            onset, fault, "structural", self.implicated, node, self.walked, {"change": first.change}
        )

    def _is_real_change(self, item: Implicated) -> bool:
        """A value missing now counts only if every good run had it (else it is optional)."""
        if item.change != MISSING or item.node.step in self.probes:
            return True
        return all(
            g.value(item.node)[0] and g.value(item.node)[1] is not None for g in self.good_runs
        )

    def _source_fault(self, item: Implicated) -> FaultClass:
        """Drift when the field itself changed form; bad data when one value is garbage.

        The good run's object read again now decides when there is one: if it shows the
        same change, the source changed; if not, this record is bad."""
        probe = self.probes.get(item.node.step)
        if probe is not None and probe.ok and self.good_runs:
            now = value_at(probe.output, item.node.path)
            changed = change(self.good_runs[0].value(item.node), now)
            return "upstream_schema_drift" if changed in STRUCTURAL else "invalid_source_data"
        if item.change in (MISSING, TYPE):
            return "upstream_schema_drift"
        if (
            item.change == SHAPE
            and isinstance(item.now, str)
            and text_format(item.now) in RECOGNISED_FORMATS
        ):
            return "upstream_schema_drift"
        return "invalid_source_data"

    def _judge_value(self) -> Localization:
        """No value changed form: judge the value the destination refused, or the rubric
        faulted, and blame the step that made it."""
        start = self.starts[0]
        if start.side == INPUT and not start.path:
            if self._kind(start.step) == "other":  # a hand-written step, step-level only
                return self._make(start.step, "unknown", "step_level", start)
            # A rubric faults a step's arguments as a whole (a record sent without the
            # source's id): the step's own mapping decides what it sends.
            return self._make(start.step, "mapping_error", "arguments", start)
        refused = not self.symptom.nodes
        if refused:
            found = self._judge_refusal(start)
            if found is not None:
                return found
        return self._blame_producer(start, refused)

    def _judge_refusal(self, start: Node) -> Localization | None:
        """What the destination's refusal says by itself: a field or a value it no longer
        takes, or a kind of value it never takes."""
        step = self.symptom.step or start.step
        present, value = self.run.value(start)
        if self._field_level():
            if start.side == INPUT and self._written_before(start):
                return self._make(step, "destination_schema_drift", "field_gone", start)
            return self._make(step, "mapping_error", "field_unknown", start)
        if start.side != INPUT:
            return None
        if present and self._accepted_before(start, value):
            return self._make(
                step, "destination_schema_drift", "accepted_before", start, value=value
            )
        refused = self._elements_accepted_before(start, value) if present else None
        if refused:
            return self._make(
                step, "destination_schema_drift", "accepted_before", start, value=refused[0]
            )
        if self._type_changed(start, value):
            return self._make(step, "destination_schema_drift", "type_changed", start, value=value)
        if self._wrong_kind(start, value):
            selector = self._selector(start)
            return self._make(selector.step, "mapping_error", "wrong_kind", selector, value=value)
        return None

    def _blame_producer(self, start: Node, refused: bool) -> Localization:
        """The transform that computed the value, else the source it was copied from."""
        value = self.run.value(start)[1]
        producer = self._producer(start)
        outside = self._outside_domain(producer) if producer is not None else None
        if outside is not None:
            # The source sent a value the map does not know: it fell to the default.
            return self._make(
                outside.step, "invalid_source_data", "outside_map", outside, value=value
            )
        if producer is None:
            origin = self._origin(start)
            onset = self._reader_of_trigger() if origin.step == TRIGGER else origin.step
            return self._make(onset, "invalid_source_data", "bad_source_value", origin, value=value)
        options = self.destination.options(start.step, start.path) if refused else None
        if options and _all_far(value, options):
            step = self.symptom.step or start.step
            return self._make(
                step, "destination_schema_drift", "option_gone", start, value=value, options=options
            )
        return self._make(producer.step, "mapping_error", "bad_mapping", producer, value=value)

    def _outside_domain(self, producer: Node) -> Node | None:
        """The source value ``producer``'s value map does not know, if that is the case."""
        expressions = self.lineage.step(producer.step)
        derivation = expressions.outputs.get(producer.path[:1]) if expressions else None
        links = self.lineage.sources(producer)
        if derivation is None or derivation.domain is None or len(links) != 1:
            return None
        present, value = self.run.value(links[0].source)
        if not present or value is None or _key_text(value) in derivation.domain:
            return None
        return links[0].source

    def _field_level(self) -> bool:
        """The error is about a field name, not a value."""
        error = self.symptom.error
        return (error is not None and error.error_class == "UnknownFieldError") or bool(
            error and error.code and "UNKNOWN_FIELD" in error.code.upper()
        )

    def _accepted_before(self, node: Node, value: Any) -> bool:
        if value is None:
            return False
        return any(
            g.value(node) == (True, value) and self._succeeded(g, node.step) for g in self.good_runs
        )

    def _elements_accepted_before(self, node: Node, value: Any) -> list[Any] | None:
        """For a list (a multi-select): the elements the destination refuses now, when
        every one of them was written there in a good run (of any record). Each element
        is judged on its own: a value the destination took before and refuses now means
        the destination stopped offering it, whoever's list it came in."""
        if not isinstance(value, list) or not value:
            return None
        options = self.destination.options(node.step, node.path)
        refused = [v for v in value if options is None or str(v) not in options]
        if not refused:
            return None
        accepted: set[str] = set()
        for good in self.good_runs:
            present, before = good.value(node)
            if present and isinstance(before, list) and self._succeeded(good, node.step):
                accepted |= {str(v) for v in before}
        return refused if all(str(v) in accepted for v in refused) else None

    def _type_changed(self, node: Node, value: Any) -> bool:
        """The destination's field no longer takes this kind of value, and it took a value
        of the same shape in a good run: its type changed."""
        if value is None or self.destination.kind_matches(node.step, node.path, value) is not False:
            return False
        return any(
            self._succeeded(g, node.step)
            and g.value(node)[0]
            and shape(g.value(node)[1]) == shape(value)
            for g in self.good_runs
        )

    def _wrong_kind(self, node: Node, value: Any) -> bool:
        """The destination's field never takes this kind of value (a name where an email
        belongs): the mapping routed the wrong value there."""
        return (
            value is not None
            and self.destination.kind_matches(node.step, node.path, value) is False
        )

    def _selector(self, start: Node) -> Node:
        """The transform output nearest the write that the value was copied from, else the
        write's own argument: where the spec chose which value goes there."""
        node = start
        while True:
            links = self.lineage.sources(node)
            if len(links) != 1 or links[0].derived:
                return node if self._kind(node.step) == "pure" else start
            if self._kind(node.step) == "pure" and node.side == OUTPUT:
                return node
            node = links[0].source

    def _written_before(self, node: Node) -> bool:
        return any(g.value(node)[0] and self._succeeded(g, node.step) for g in self.good_runs)

    @staticmethod
    def _succeeded(run: RunSnapshot, step: str) -> bool:
        snapshot = run.steps.get(step)
        return snapshot is not None and snapshot.status == "succeeded"

    def _producer(self, start: Node) -> Node | None:
        """Walking back through plain copies, the first value that was computed."""
        node = start
        while True:
            links = self.lineage.sources(node)
            if not links:
                return None
            derived = [link for link in links if link.derived]
            if derived or len(links) > 1:
                return node
            node = links[0].source

    def _origin(self, start: Node) -> Node:
        node = start
        while True:
            links = self.lineage.sources(node)
            if len(links) != 1:
                return node
            node = links[0].source

    def _kind(self, step: str) -> StepKind:
        snapshot = self.run.steps.get(step)
        return snapshot.kind if snapshot else "other"

    def _reader_of_trigger(self) -> str | None:
        ordered = sorted(self.run.steps.values(), key=lambda s: s.index)
        return ordered[0].step if ordered else None
