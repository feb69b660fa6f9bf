"""Pipeline specs: YAML → pydantic, strict, with errors that name the file and line.

A pipeline is a list of explicit steps. Each step has an ``id``, an ``op`` from
:mod:`orchestrator.spec.ops` and ``args`` whose values are JMESPath expressions over the run
context ``{trigger, <step id>: <that step's output>}`` (a literal string is written as a
JMESPath raw string, ``'Issues'``). A ``transform`` step builds a new object from
``map:`` entries instead (see :mod:`orchestrator.spec.transform`).

Loading checks everything that can be checked before a run: unknown keys, unknown ops
and arguments, missing arguments, duplicate ids, expressions that do not parse, and
references to steps that do not exist or come later — each error names the file, the
line and the valid choices.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from typing_extensions import TypeAliasType

from orchestrator.spec.ops import OPS, known_ops
from orchestrator.spec.triggers import ScheduleSpec, WebhookTrigger
from orchestrator.spec.yaml_lines import LinePath, YamlError, line_of, parse_with_lines
from tracer.faults import FaultClass
from tracer.lineage import expression_reads, is_valid_expression

ArgValue = TypeAliasType(
    "ArgValue", "str | int | float | bool | list[ArgValue] | dict[str, ArgValue] | None"
)
STEP_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
TRIGGER = "trigger"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MapEntry(Strict):
    """One output field of a ``transform`` step."""

    source: str = Field(alias="from", description="JMESPath expression")
    values: dict[str, Any] | None = Field(default=None, description="value map")
    default: Any = None
    date_format: str | None = Field(default=None, description="strftime format")
    max_length: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _keys_as_text(cls, data: Any) -> Any:
        # YAML reads `1: Urgent` with an int key; lookups use the value's text form.
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            data = {**data, "values": {key_text(k): v for k, v in data["values"].items()}}
        return data


class RetrySpec(Strict):
    maximum_attempts: int = Field(default=5, ge=1)
    initial_interval_seconds: float = Field(default=1.0, gt=0)
    backoff: float = Field(default=2.0, ge=1.0)
    maximum_interval_seconds: float = Field(default=30.0, gt=0)


class StepSpec(Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    op: str
    args: dict[str, ArgValue] = Field(default_factory=dict)
    map: dict[str, MapEntry | str] | None = None
    retry: RetrySpec = Field(default_factory=RetrySpec)
    timeout_seconds: float = Field(default=30.0, gt=0)
    description: str = ""


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or a text such as ``90s``, ``30m``, ``2h``, ``1h30m``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"(\d+(\.\d+)?[smhd])+", value.strip()):
        parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", value.strip())
        seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in parts)
    else:
        raise ValueError(f"{value!r} is not a duration (seconds, or text like 90s, 30m, 2h, 1h30m)")
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be positive")
    return seconds


class TierSpec(Strict):
    """One escalation tier. Tier 0 is ``automatic`` (the steps' own retries); every later
    tier posts the alert to a channel, mentions the users it names, lets its approvers
    act, and waits ``ack_timeout`` for an acknowledgement before the next tier."""

    name: str = ""
    automatic: bool = False
    notify: list[str] = Field(default_factory=list, description="a channel, then user ids")
    approvers: list[str] = Field(default_factory=list, description="Slack user ids")
    ack_timeout: float | None = Field(default=None, description="seconds or 2h-style text")

    @field_validator("ack_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _shape(self) -> TierSpec:
        if self.automatic and (self.notify or self.approvers or self.ack_timeout):
            raise ValueError("an automatic tier notifies nobody: drop notify/approvers/ack_timeout")
        if not self.automatic:
            if not any(_is_channel(t) for t in self.notify):
                raise ValueError(
                    "a tier must notify a channel (#name or C…), optionally followed by user "
                    f"ids to mention; got notify: {self.notify}"
                )
            if self.ack_timeout is None:
                raise ValueError("a tier needs an ack_timeout (e.g. 2h)")
        return self

    @property
    def channel(self) -> str:
        """Where this tier's alert goes: the first channel it notifies."""
        return next(t for t in self.notify if _is_channel(t))

    @property
    def mentions(self) -> list[str]:
        """The users this tier notifies by name."""
        return [t for t in self.notify if not _is_channel(t)]


def _is_channel(target: str) -> bool:
    return target.startswith("#") or bool(re.fullmatch(r"[CG][A-Z0-9]{8,}", target))


class EscalationSpec(Strict):
    """Who hears of a failed run, who may act on it, and when it climbs (DESIGN §7)."""

    tiers: list[TierSpec] = Field(min_length=2)
    start: dict[FaultClass, int] = Field(
        default_factory=dict, description="fault class -> starting tier"
    )
    default_start: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _tiers(self) -> EscalationSpec:
        if not self.tiers[0].automatic:
            raise ValueError("tier 0 is the automatic one: start tiers with `- automatic: true`")
        if any(t.automatic for t in self.tiers[1:]):
            raise ValueError("only tier 0 may be automatic")
        last = len(self.tiers) - 1
        starts: dict[str, int] = {str(k): v for k, v in self.start.items()}
        starts["default_start"] = self.default_start
        for fault, tier in starts.items():
            if not 0 <= tier <= last:
                raise ValueError(f"start {fault}: no tier {tier} (tiers 0..{last})")
        return self


class PipelineSpec(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    steps: list[StepSpec] = Field(min_length=1)
    escalation: EscalationSpec | None = None
    triggers: list[WebhookTrigger] = Field(default_factory=list)
    schedule: ScheduleSpec | None = None

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"pipeline {self.name!r} has no step {step_id!r}")

    @property
    def version(self) -> str:
        """The content hash of the spec (comments and layout do not count)."""
        data = self.model_dump(mode="json", by_alias=True)
        for optional in ("escalation", "triggers", "schedule"):
            if not data.get(optional):
                data.pop(optional, None)  # specs without one keep the version they had
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated spec, the text it came from, and where."""

    spec: PipelineSpec
    text: str
    source: str

    @property
    def version(self) -> str:
        return self.spec.version


class PipelineSpecError(ValueError):
    """A spec that cannot run; ``problems`` holds one line per mistake.

    Its message is one line: every problem, each naming the file (and line, when known),
    separated by ``; ``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        located = [p if p.startswith(source) else f"{source}: {p}" for p in problems]
        super().__init__("; ".join(" ".join(p.splitlines()) for p in located))


def load_pipeline(path: Path | str) -> LoadedPipeline:
    """Read and validate the pipeline spec at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PipelineSpecError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Described, never echoed: the file may be anything (a binary, someone's secrets).
        raise PipelineSpecError(
            str(path),
            [
                f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "a pipeline spec is a YAML file saved as UTF-8"
            ],
        ) from exc
    return parse_pipeline(text, source=str(path))


# Validated specs by the sha256 of their text: a diagnosis reads the same stored spec
# three times (the run's pipeline, the fix's version, its replay), and a worker runs the
# same few versions again and again. A spec is frozen, so one instance serves every caller.
SPEC_CACHE_SIZE = 256
_validated: OrderedDict[str, PipelineSpec] = OrderedDict()
_validated_lock = threading.Lock()


def parse_pipeline(text: str, *, source: str = "<pipeline>") -> LoadedPipeline:
    """Validate a spec given as YAML text (once per content: later calls with the same
    text share the validated spec; an invalid text is checked, and reported, every time)."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    with _validated_lock:
        spec = _validated.get(key)
        if spec is not None:
            _validated.move_to_end(key)
    if spec is None:
        spec = _validate(text, source)
        with _validated_lock:
            _validated[key] = spec
            while len(_validated) > SPEC_CACHE_SIZE:
                _validated.popitem(last=False)
    return LoadedPipeline(spec=spec, text=text, source=source)


def _validate(text: str, source: str) -> PipelineSpec:
    try:
        data, lines = parse_with_lines(text, source)
    except YamlError as exc:
        raise PipelineSpecError(source, [str(exc)]) from exc
    if not isinstance(data, dict):
        raise PipelineSpecError(source, [f"{source}:1: a pipeline spec is a mapping"])
    if not set(map(str, data)) & set(PipelineSpec.model_fields):
        # Nothing of a spec in it: say what it is, never what it says (the keys of a
        # file given by mistake may be anyone's data).
        raise PipelineSpecError(
            source,
            [
                f"{source}:1: does not look like a pipeline spec: a mapping of {len(data)} "
                f"keys, none of them {', '.join(PipelineSpec.model_fields)}"
            ],
        )
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise PipelineSpecError(source, _pydantic_problems(exc, lines, source)) from exc
    problems = check_references(spec, lines, source)
    if problems:
        raise PipelineSpecError(source, problems)
    return spec


def check_references(
    spec: PipelineSpec, lines: dict[LinePath, int] | None = None, source: str = "<pipeline>"
) -> list[str]:
    """Everything pydantic cannot see: ops, arguments, ids and step references."""
    lines = lines or {}
    problems: list[str] = []
    seen: list[str] = []
    for index, step in enumerate(spec.steps):

        def at(*path: str | int, _index: int = index) -> str:
            return _where(source, lines, ("steps", _index, *path))

        if step.id in seen:
            problems.append(f"{at('id')}: duplicate step id {step.id!r}")
        problems += _check_op(step, at)
        for arg_path, expression in step_expressions(step):
            problems += _check_expression(step, arg_path, expression, seen, at)
        seen.append(step.id)
    return problems


def _check_op(step: StepSpec, at: Any) -> list[str]:
    op = OPS.get(step.op)
    if op is None:
        return [
            f"{at('op')}: step `{step.id}`: unknown op {step.op!r} "
            f"(known: {', '.join(known_ops())})"
        ]
    problems: list[str] = []
    if op.args is None:
        if step.map is None:
            problems.append(f"{at('op')}: step `{step.id}`: op `{step.op}` needs a `map:`")
        if step.args:
            problems.append(f"{at('args')}: step `{step.id}`: op `{step.op}` takes no `args:`")
        return problems
    if step.map is not None:
        problems.append(f"{at('map')}: step `{step.id}`: only `transform` takes a `map:`")
    fields = op.args.model_fields
    for name in step.args:
        if name not in fields:
            problems.append(
                f"{at('args', name)}: step `{step.id}`: op `{step.op}` has no argument "
                f"{name!r} (known: {', '.join(fields)})"
            )
    for name, field in fields.items():
        if field.is_required() and name not in step.args:
            problems.append(f"{at('args')}: step `{step.id}`: op `{step.op}` needs `{name}`")
    return problems


def _check_expression(
    step: StepSpec, arg_path: tuple[str | int, ...], expression: str, seen: list[str], at: Any
) -> list[str]:
    where = at(*arg_path)
    label = ".".join(str(p) for p in arg_path)
    error = is_valid_expression(expression)
    if error is not None:
        return [f"{where}: step `{step.id}`, {label}: not a JMESPath expression: {error}"]
    problems = []
    for root in sorted(expression_reads(expression).roots - {TRIGGER, *seen}):
        choices = ", ".join([TRIGGER, *seen])
        problems.append(
            f"{where}: step `{step.id}`, {label}: {expression!r} reads {root!r}, "
            f"which is not the trigger or an earlier step (known: {choices})"
        )
    return problems


def step_expressions(step: StepSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Every JMESPath expression in a step, with its path inside the step: ``("args",
    …)`` for arguments, ``("map", name)`` for map entries."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    _collect(step.args, ("args",), found)
    for name, entry in (step.map or {}).items():
        source = entry if isinstance(entry, str) else entry.source
        found.append((("map", name), source))
    return found


def _collect(value: Any, path: tuple[str | int, ...], found: list[Any]) -> None:
    if isinstance(value, str):
        found.append((path, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, (*path, key), found)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _collect(item, (*path, position), found)


def _pydantic_problems(exc: ValidationError, lines: dict[LinePath, int], source: str) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
        label = ".".join(str(p) for p in loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}{_known_keys(loc)}"
        elif error["type"] == "missing":
            message = "is required"
        else:
            message = error["msg"]
        problems.append(f"{_where(source, lines, loc)}: {label}: {message}")
    return list(dict.fromkeys(problems))


def _known_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = PipelineSpec
    if len(loc) >= 3 and loc[0] == "steps":
        model = StepSpec
        if len(loc) >= 5 and loc[2] == "map":
            model = MapEntry
        elif len(loc) >= 4 and loc[2] == "retry":
            model = RetrySpec
    names = [field.alias or name for name, field in model.model_fields.items()]
    return f" (known: {', '.join(names)})"


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in {"MapEntry", "str"} or "[" in part)


def _where(source: str, lines: dict[LinePath, int], path: tuple[Any, ...]) -> str:
    line = line_of(lines, path)
    return f"{source}:{line}" if line else source


def without_ops(pipeline: LoadedPipeline, ops: set[str]) -> LoadedPipeline:
    """``pipeline`` minus its steps of ``ops`` (a variant for benchmarks; comments are lost)."""
    data = pipeline.spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["steps"] = [step for step in data["steps"] if step["op"] not in ops]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return parse_pipeline(text, source=f"{pipeline.source} (without {', '.join(sorted(ops))})")


def key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)
