"""The fault engine: what can go wrong in the sandbox, and when.

A fault is declared in a scenario file's ``faults:`` list (DESIGN §6) and switched on from
a given run (``from_run``), so a fault can start after a few good runs. Transport faults
(``http_error``, ``rate_limit``, ``latency``, ``revoke_token``, ``duplicate_on_timeout``)
are applied to every emulator by :mod:`connectors.sandbox.app`; data faults
(``rename_field``, ``drop_field``, ``change_type``, ``corrupt_value``, ``remove_option``,
``concurrent_edit``) change what one emulator stores or returns, and each emulator asks
the engine which are active.

The engine is shared between the emulators' event loop and the thread that controls the
sandbox, so every method takes a lock. Randomness (``rate``) comes from the seed, so the
same scenario fails the same requests every time.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Service = Literal["linear", "airtable", "monday", "slack"]
SERVICES: tuple[Service, ...] = get_args(Service)

FaultKind = Literal[
    "http_error",
    "rate_limit",
    "latency",
    "rename_field",
    "drop_field",
    "change_type",
    "revoke_token",
    "corrupt_value",
    "remove_option",
    "duplicate_on_timeout",
    "concurrent_edit",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

TRANSPORT_KINDS: frozenset[FaultKind] = frozenset(
    {"http_error", "rate_limit", "latency", "revoke_token", "duplicate_on_timeout"}
)
DATA_KINDS: frozenset[FaultKind] = frozenset(FAULT_KINDS) - TRANSPORT_KINDS

_REQUIRED: dict[FaultKind, tuple[str, ...]] = {
    "http_error": ("status",),
    "latency": ("seconds",),
    "rename_field": ("target", "to"),
    "drop_field": ("target",),
    "change_type": ("target", "to"),
    "corrupt_value": ("target",),
    "remove_option": ("target", "value"),
    "concurrent_edit": ("target",),
}


class Fault(BaseModel):
    """One injected fault.

    Fields mean, by kind:

    - ``http_error``: answer ``status`` (and the tool's error ``code``) instead of serving;
      the code ``malformed_json`` makes the emulator answer a cut-off, non-JSON body.
    - ``rate_limit``: answer the tool's rate-limit error, asking to wait ``retry_after``.
    - ``latency``: wait ``seconds`` before answering.
    - ``revoke_token``: every token is refused with the tool's auth error.
    - ``duplicate_on_timeout``: perform the write, then answer 504 as if it timed out.
    - ``rename_field`` / ``drop_field`` / ``change_type``: the field ``target`` (the tool's
      vocabulary: an Airtable field name, a Monday column title, a Linear issue field, a
      Slack channel) is renamed ``to``, removed, or changes type ``to``.
    - ``corrupt_value``: the tool returns ``value`` (or a damaged copy) for ``target``.
    - ``remove_option``: the option ``value`` of select/status field ``target`` is gone.
    - ``concurrent_edit``: a person sets ``target`` to ``value`` on the object we write,
      ``when`` before our write lands (we overwrite a newer edit) or after it.

    ``times`` fires the fault that many times in all; ``rate`` fires it on that fraction
    of requests; with neither it fires on every request. ``operation`` limits it to one
    connector operation (its name as the emulator reports it, e.g. ``issue``,
    ``upsert_records``, ``chat.postMessage``). ``from_run``/``until_run`` (1-based,
    inclusive) limit it to those runs.
    """

    model_config = ConfigDict(extra="forbid")

    service: Service
    kind: FaultKind
    target: str | None = None
    to: str | None = None
    value: Any = None
    status: int | None = Field(default=None, ge=200, le=599)
    code: str | None = None
    times: int | None = Field(default=None, ge=1)
    rate: float | None = Field(default=None, gt=0.0, le=1.0)
    retry_after: float | None = Field(default=None, ge=0.0)
    seconds: float | None = Field(default=None, ge=0.0)
    operation: str | None = None
    from_run: int = Field(default=1, ge=1)
    until_run: int | None = Field(default=None, ge=1)
    when: Literal["before_write", "after_write"] = "before_write"

    @model_validator(mode="after")
    def _check_required(self) -> Fault:
        missing = [name for name in _REQUIRED.get(self.kind, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"fault kind {self.kind!r} needs {', '.join(repr(m) for m in missing)}"
            )
        if self.until_run is not None and self.until_run < self.from_run:
            raise ValueError(f"until_run {self.until_run} is before from_run {self.from_run}")
        return self

    def describe(self) -> str:
        """A short human description, for logs and the demo."""
        bits = [f"{self.service}.{self.kind}"]
        if self.target:
            bits.append(f"target={self.target!r}")
        if self.to:
            bits.append(f"to={self.to!r}")
        if self.status:
            bits.append(f"status={self.status}")
        if self.operation:
            bits.append(f"operation={self.operation}")
        bits.append(f"from_run={self.from_run}")
        return " ".join(bits)


FIRED_LOG_LIMIT = 10_000


class FiredFault(BaseModel):
    """A record that a fault fired: which run, which operation, and which fault."""

    run: int
    service: Service
    operation: str
    kind: FaultKind
    fault_index: int


class FaultEngine:
    """Holds the faults and the current run index; decides when each one fires."""

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults)
        self._fired_count: Counter[int] = Counter()
        self._random = random.Random(seed)
        self._run = 1
        self.fired: deque[FiredFault] = deque(maxlen=FIRED_LOG_LIMIT)

    @property
    def run(self) -> int:
        """The current run index (1-based)."""
        return self._run

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def begin_run(self, index: int) -> None:
        """Say that run ``index`` (1-based) starts now: faults with ``from_run`` apply."""
        if index < 1:
            raise ValueError(f"run index must be 1 or more, got {index}")
        with self._lock:
            self._run = index

    def add(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._fired_count.clear()
            self.fired.clear()

    def active(
        self,
        service: Service,
        kinds: Iterable[FaultKind] | None = None,
        *,
        operation: str | None = None,
    ) -> list[Fault]:
        """Faults of ``service`` in force for this run (and operation), without firing."""
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            return [
                fault
                for index, fault in enumerate(self._faults)
                if self._in_force(index, fault, service, wanted, operation)
            ]

    def fire(
        self,
        service: Service,
        kinds: Iterable[FaultKind],
        *,
        operation: str,
    ) -> Fault | None:
        """The first fault of ``kinds`` that fires on this request, consuming one use.

        Used for faults that act per request (transport faults, corrupt values,
        concurrent edits). ``times`` and ``rate`` are honoured here.
        """
        wanted = set(kinds)
        with self._lock:
            for index, fault in enumerate(self._faults):
                if not self._in_force(index, fault, service, wanted, operation):
                    continue
                if fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                self._fired_count[index] += 1
                self.fired.append(
                    FiredFault(
                        run=self._run,
                        service=service,
                        operation=operation,
                        kind=fault.kind,
                        fault_index=index,
                    )
                )
                return fault
        return None

    def _in_force(
        self,
        index: int,
        fault: Fault,
        service: Service,
        kinds: set[FaultKind] | None,
        operation: str | None,
    ) -> bool:
        if fault.service != service or (kinds is not None and fault.kind not in kinds):
            return False
        if self._run < fault.from_run:
            return False
        if fault.until_run is not None and self._run > fault.until_run:
            return False
        if fault.operation is not None and operation is not None and fault.operation != operation:
            return False
        return fault.times is None or self._fired_count[index] < fault.times


def parse_faults(data: Any, *, source: str = "<faults>") -> list[Fault]:
    """Faults from a scenario mapping (its ``faults:`` list) or a bare list.

    Raises :class:`FaultSpecError` naming ``source``, the fault's position and the valid
    choices when an entry is wrong.
    """
    if isinstance(data, dict):
        if "faults" not in data:
            raise FaultSpecError(f"{source}: no 'faults:' list in this mapping")
        data = data["faults"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise FaultSpecError(
            f"{source}: faults must be a list of mappings, got {type(data).__name__}"
        )
    return [_parse_one(entry, source=source, position=i) for i, entry in enumerate(data, 1)]


def _parse_one(entry: Any, *, source: str, position: int) -> Fault:
    where = f"{source}: fault #{position}"
    if not isinstance(entry, dict):
        raise FaultSpecError(f"{where}: expected a mapping, got {type(entry).__name__}")
    if entry.get("service") not in SERVICES:
        raise FaultSpecError(
            f"{where}: unknown service {entry.get('service')!r} (known: {', '.join(SERVICES)})"
        )
    if entry.get("kind") not in FAULT_KINDS:
        raise FaultSpecError(
            f"{where}: unknown kind {entry.get('kind')!r} (known: {', '.join(FAULT_KINDS)})"
        )
    try:
        return Fault.model_validate(entry)
    except ValueError as exc:
        raise FaultSpecError(f"{where}: {exc}") from exc


class FaultSpecError(ValueError):
    """A fault list that cannot be loaded; the message names the file and the entry."""
