"""What rubrics read: a run's handoffs (:class:`RunEvidence`) and what the pipeline means
(:class:`PipelineParams`), both plain data.

The orchestrator builds both (``orchestrator.qc.review``): the evidence from the trace store,
the parameters from the pipeline spec. Rubrics never see a spec or a store, so the same
rubric serves every pipeline: it asks the parameters which step is the source read,
which destination field came from which source path through which value map, and what
the routing rule is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rubrics.model import Segment


class _Plain(BaseModel):
    model_config = ConfigDict(frozen=True)


class WriteEvidence(_Plain):
    """One external write of a step, with the object's images.

    ``previous_after`` is the after-image of the same object as this pipeline last wrote
    it in an earlier run (``previous_run``), when the evidence carries it.
    """

    tool: str
    kind: str
    container: str | None = None
    object_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    previous_after: dict[str, Any] | None = None
    previous_run: str | None = None
    earlier_object_ids: list[str] = Field(default_factory=list)
    """Objects the same step wrote in the same container for the same trigger earlier."""
    concurrent_after: list[dict[str, Any]] = Field(default_factory=list)
    """After-images of the same object written by our other runs that overlapped this one
    (two runs of the same row): a value one of them wrote is not a person's edit."""


class StepEvidence(_Plain):
    """One step of the run as recorded: its last attempt's input and output.

    ``attempts`` counts the step's Temporal attempts; ``inner_retries`` the tool calls its
    attempts retried inside themselves (a client retrying a 503 before the attempt ends).
    Both are retries the step needed, so the retry budget counts both.
    """

    id: str
    op: str
    index: int
    input: Any = None
    output: Any = None
    status: str = "succeeded"
    attempts: int = 1
    inner_retries: int = 0
    duration_ms: int = 0
    writes: list[WriteEvidence] = Field(default_factory=list)


class RunEvidence(_Plain):
    """A run's handoffs.

    ``planned`` holds the evaluated arguments of steps that have not run yet (a QC step
    between two writes reads the next step's arguments there). ``schemas`` maps a write
    container (``appX/Issues``, a board id) to its field schema when one was recorded:
    ``{field: {"type": ..., "options": [...]}}``. ``listings`` maps a container to the
    objects found there, when listed. ``recent`` holds source objects of recent runs of
    the same pipeline, for the duplicate check.
    """

    run_id: str
    pipeline: str = ""
    trigger: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepEvidence] = Field(default_factory=list)
    planned: dict[str, dict[str, Any]] = Field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = Field(default_factory=dict)
    listings: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    recent: list[dict[str, Any]] = Field(default_factory=list)
    read_history: dict[str, list[dict[str, str]]] = Field(default_factory=dict)
    """Per read step, newest first, one entry per recent good run of the pipeline: the
    JSON kind (``string``, ``number``, ``null``, ``missing``…) at each read path."""
    reread: dict[str, list[dict[str, str]]] = Field(default_factory=dict)
    """Per read step, the objects recent good runs read, read again while this run was
    reviewed: the JSON kind at each read path now. Filled only for a step with a read path
    that is null in this run and always had a value before (a null alone cannot tell a
    field the source stopped sending from an optional one left empty on this record)."""

    def step(self, step_id: str) -> StepEvidence | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def arguments(self, step_id: str) -> dict[str, Any] | None:
        """A step's arguments: as it received them, or as it is about to (``planned``)."""
        step = self.step(step_id)
        if step is not None and isinstance(step.input, dict):
            return step.input
        return self.planned.get(step_id)


class ValueMapping(_Plain):
    """One ``transform`` map entry a value passes through, nearest the source first."""

    step: str
    field: str
    values: dict[str, Any] | None = None
    has_default: bool = False
    default: Any = None
    date_format: str | None = None
    max_length: int | None = None


class SourceRef(_Plain):
    """A value's origin: a path into the output of a step that talks to a tool (or the
    trigger, ``step == "trigger"``)."""

    step: str
    path: tuple[Segment, ...]


class FieldLink(_Plain):
    """A destination field and where its value comes from.

    ``arg`` is the path inside the write step's arguments (``("fields", "Priority")``);
    ``name`` the destination field's name; ``concept`` what it means (``priority``,
    ``title``, … or ``""``). ``origins`` are the source paths read; when ``exact`` the
    value is the single origin passed through ``mappings`` (value maps, date formats,
    length caps) and nothing else, so it can be recomputed from the source.
    """

    step: str
    arg: tuple[Segment, ...]
    name: str
    concept: str = ""
    expression: str = ""
    origins: list[SourceRef] = Field(default_factory=list)
    mappings: list[ValueMapping] = Field(default_factory=list)
    exact: bool = False


class StepParams(_Plain):
    id: str
    op: str
    tool: str | None = None
    reads: bool = False
    writes: bool = False
    max_attempts: int = 5
    timeout_ms: int = 30_000
    projections: list[tuple[Segment, ...]] = Field(default_factory=list)
    """Paths this step reads across every item of a list (``read_board.items.*.values.
    Status``): the first segment names the step read."""
    read_paths: list[tuple[Segment, ...]] = Field(default_factory=list)
    """Scalar paths inside this step's output that later steps read (``due_date``),
    for the silent-drift check; no list items."""


class RoutingRule(_Plain):
    """The rule that picks a message's channel: the expression and the channels it names."""

    step: str
    arg: tuple[Segment, ...] = ("channel",)
    expression: str
    channels: list[str] = Field(default_factory=list)
    origins: list[SourceRef] = Field(default_factory=list)
    conditional: bool = False


class MessageParams(_Plain):
    """A step that posts a message: where its text, channel and mention arguments are."""

    step: str
    text_arg: str = "text"
    channel_arg: str = "channel"
    mention_arg: str | None = None
    mention_origins: list[SourceRef] = Field(default_factory=list)


class PipelineParams(_Plain):
    """What a pipeline means, derived from its spec.

    ``source_step`` is the first step that reads from a tool; ``fields`` every
    destination field of a write step; ``required`` the destination fields that must not
    be empty (``(step, arg path)``); budgets for the process rubrics.
    """

    name: str
    source_step: str | None = None
    steps: list[StepParams] = Field(default_factory=list)
    fields: list[FieldLink] = Field(default_factory=list)
    routing: RoutingRule | None = None
    messages: list[MessageParams] = Field(default_factory=list)
    required: list[tuple[str, tuple[Segment, ...]]] = Field(default_factory=list)
    retry_budget: int = 2
    """Tries a step may make: its attempts plus the tool calls retried inside them."""
    latency_budget_fraction: float = 0.5

    def step(self, step_id: str) -> StepParams | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def write_steps(self) -> list[StepParams]:
        return [step for step in self.steps if step.writes]

    def fields_of(self, concept: str) -> list[FieldLink]:
        return [link for link in self.fields if link.concept == concept]


MISSING: Any = object()
"""What :func:`get_path` returns when a path does not exist (``None`` is a value)."""


def json_kind(value: Any) -> str:
    """The JSON kind of a value, ``missing`` for :data:`MISSING`."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def path_kind(value: Any, path: tuple[Segment, ...]) -> str:
    """The JSON kind at ``path``; ``absent`` when an object on the way is null (an issue
    with no assignee has no assignee email: optional data, not a vanished field)."""
    for depth in range(len(path)):
        parent = get_path(value, path[:depth])
        if parent is None:
            return "absent"
    return json_kind(get_path(value, path))


def path_key(path: tuple[Segment, ...]) -> str:
    return ".".join(str(p) for p in path)


def get_path(value: Any, path: tuple[Segment, ...]) -> Any:
    """The value at ``path`` inside ``value``, or :data:`MISSING`."""
    for segment in path:
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, dict) and str(segment) in value:
            value = value[str(segment)]
        elif (
            isinstance(value, list)
            and isinstance(segment, int)
            and -len(value) <= segment < len(value)
        ):
            value = value[segment]
        else:
            return MISSING
    return value
