"""The scenario format (DESIGN §6) and its loader: strict, with errors that name the file
and line, because people write these by hand. The format is a public contract: new keys
may be added (optional ones only), none may change meaning."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.sandbox.faults import Fault
from connectors.sandbox.files import FaultFileError, load_fault_file
from orchestrator.spec.pipeline import (
    LoadedPipeline,
    PipelineSpec,
    PipelineSpecError,
    load_pipeline,
)
from orchestrator.spec.yaml_lines import LinePath, YamlError, line_of, parse_with_lines
from tracer.faults import FaultClass, FixKind

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
FIRST_ISSUE = 101
LAST_ISSUE = 160

RunStatusName = Literal["succeeded", "failed", "qc_failed", "rolled_back", "escalated"]


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message is one line naming file and line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunsSpec(_Strict):
    """Which runs to make, in order. Exactly one key."""

    issues: list[str] | None = Field(default=None, min_length=1)
    count: int | None = Field(default=None, ge=1, le=LAST_ISSUE - FIRST_ISSUE + 1)
    intake_rows: list[int] | None = Field(default=None, min_length=1)
    dates: list[date] | None = Field(default=None, min_length=1)
    triggers: list[dict[str, Any]] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_key(self) -> RunsSpec:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            names = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one of {names} (got {', '.join(given) or 'none'})")
        for row in self.intake_rows or []:
            if row < 1:
                raise ValueError(f"intake_rows are 1-based row positions, got {row}")
        return self

    @property
    def size(self) -> int:
        if self.count is not None:
            return self.count
        chosen = self.issues or self.intake_rows or self.dates or self.triggers or []
        return len(chosen)


class Expectation(_Strict):
    """Ground truth for one run (DESIGN §5): what really went wrong, not what a tool says."""

    run: int = Field(ge=1)
    status: RunStatusName
    onset_step: str | None = None
    fault_class: FaultClass | None = None
    fix_kind: FixKind | None = None
    recoverable: bool | None = None
    """``false`` when no fix can write what a fault-free twin writes (the destination no
    longer holds that value at all); the benchmark's recovery figure leaves it out."""


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    pipeline: str = Field(min_length=1)
    seed: int = 7
    runs: RunsSpec
    faults: list[dict[str, Any]] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    twin_pipeline: str | None = None
    """For a scenario whose fault is a pipeline bug: the pipeline as it should be, which
    the fault-free twin of the recovery check runs (default: ``pipeline`` itself)."""


@dataclass(frozen=True)
class LoadedScenario:
    """A checked scenario: its spec, faults, pipeline and where it came from."""

    spec: ScenarioSpec
    faults: tuple[Fault, ...]
    pipeline: LoadedPipeline
    path: Path
    twin: LoadedPipeline | None = None
    """The fault-free twin's pipeline when the scenario names one (``twin_pipeline``)."""


# ---------------------------------------------------------------------------- loading


def load_scenario(path: Path | str) -> LoadedScenario:
    """Read and check the scenario at ``path``; :class:`ScenarioError` names the problem."""
    path = Path(path)
    text = _read(path)
    try:
        data, lines = parse_with_lines(text, str(path))
    except YamlError as exc:
        raise ScenarioError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario is a mapping (name, pipeline, runs, …)")
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_first_problem(exc, lines, path)) from exc
    faults = _faults(path)
    pipeline = _pipeline(spec, path, lines)
    _check_expectations(spec, pipeline.spec, path, lines)
    twin = (
        _pipeline(spec.model_copy(update={"pipeline": spec.twin_pipeline}), path, lines)
        if spec.twin_pipeline
        else None
    )
    return LoadedScenario(spec=spec, faults=tuple(faults), pipeline=pipeline, path=path, twin=twin)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such scenario file") from exc
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _first_problem(exc: ValidationError, lines: dict[LinePath, int], path: Path) -> str:
    errors = exc.errors()
    # A misspelt key also makes the right one "missing": name the misspelling.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    label = ".".join(str(part) for part in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r} (known: {', '.join(_known_keys(loc))})"
    elif error["type"] == "missing":
        message = "is required"
    else:
        message = error["msg"].removeprefix("Value error, ")
    return f"{_where(path, lines, loc)}: {label}: {message}"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    if loc and loc[0] == "runs":
        return list(RunsSpec.model_fields)
    if loc and loc[0] == "expect":
        return list(Expectation.model_fields)
    return list(ScenarioSpec.model_fields)


def _where(path: Path, lines: dict[LinePath, int], loc: Iterable[Any]) -> str:
    line = line_of(lines, tuple(loc))
    return f"{path}:{line}" if line else str(path)


def _faults(path: Path) -> list[Fault]:
    try:
        return load_fault_file(path)
    except FaultFileError as exc:
        raise ScenarioError(_fault_message(exc)) from exc


def _fault_message(exc: BaseException) -> str:
    """The fault file's error on one line (pydantic's own text spans several)."""
    first = str(exc).splitlines()[0]
    cause = exc.__cause__
    while cause is not None and not isinstance(cause, ValidationError):
        cause = cause.__cause__
    if cause is None:
        return first
    head = re.sub(r"\d+ validation errors? for \w+$", "", first).rstrip(": ")
    details = []
    for error in cause.errors():
        where = ".".join(str(part) for part in error["loc"])
        text = error["msg"].removeprefix("Value error, ")
        details.append(f"{where}: {text}" if where else text)
    return f"{head}: {'; '.join(details)}"


def resolve_pipeline(reference: str, scenario_file: Path) -> Path | None:
    """``pipeline:`` against the scenario file's folder first, then the project root."""
    for base in (scenario_file.resolve().parent, PROJECT_ROOT):
        candidate = (base / reference).resolve()
        if candidate.is_file():
            return candidate
    return None


def _pipeline(spec: ScenarioSpec, path: Path, lines: dict[LinePath, int]) -> LoadedPipeline:
    found = resolve_pipeline(spec.pipeline, path)
    if found is None:
        folder = path.resolve().parent
        raise ScenarioError(
            f"{_where(path, lines, ('pipeline',))}: pipeline {spec.pipeline!r} not found "
            f"(looked in {folder} and {PROJECT_ROOT})"
        )
    try:
        return load_pipeline(found)
    except PipelineSpecError as exc:
        first = exc.problems[0] if exc.problems else str(exc)
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise ScenarioError(
            f"{_where(path, lines, ('pipeline',))}: pipeline {spec.pipeline!r} is invalid: "
            f"{first}{more}"
        ) from exc


def _check_expectations(
    spec: ScenarioSpec, pipeline: PipelineSpec, path: Path, lines: dict[LinePath, int]
) -> None:
    steps = [step.id for step in pipeline.steps]
    for position, expected in enumerate(spec.expect):
        where = _where(path, lines, ("expect", position))
        if expected.run > spec.runs.size:
            raise ScenarioError(
                f"{where}: expect run {expected.run}: the scenario makes only "
                f"{spec.runs.size} run(s)"
            )
        if expected.onset_step is not None and expected.onset_step not in steps:
            raise ScenarioError(
                f"{where}: expect run {expected.run}: onset_step {expected.onset_step!r} is "
                f"not a step of {pipeline.name!r} (steps: {', '.join(steps)})"
            )
