"""The fingerprint of a failure: which runs failed "the same way" (Sentry's grouping).

A failed run's fingerprint is ``(pipeline, onset step, fault class, signature)``: the
pipeline, the step where the diagnosis says the failure started, the fault class, and the
signature — the failing error's class and its message with what changes from run to run
(quoted values, ids, issue keys, record ids, numbers) taken out, or ``rubric <ids>`` for a
run that failed QC. Its :attr:`Fingerprint.id` (a short hash) is the failure group's id
everywhere: stored with each diagnosis (``diagnosis.group_id``, the run's newest one on
``run.failure_group``), the alert thread a repeat joins, the console's group page, and
insights' failure groups. A failed run with no diagnosis yet gets :func:`undiagnosed`:
fault class ``undiagnosed``, onset its failed step.

Changing what goes into the fingerprint changes every group id: stored ids would no longer
match new failures of the same kind (a migration must recompute them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "NO_ONSET",
    "UNDIAGNOSED",
    "Fingerprint",
    "group_id",
    "normalise",
    "of_diagnosis",
    "signature",
    "undiagnosed",
]

UNDIAGNOSED = "undiagnosed"
NO_ONSET = "-"

_VOLATILE = re.compile(
    r"'[^']*'|\"[^\"]*\"|\b[A-Z][A-Z0-9]*-\d+\b|\brec[A-Za-z0-9]{14}\b"
    r"|\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b|\d+(?:\.\d+)?"
)


def normalise(message: str) -> str:
    """The message with its volatile parts (quoted values, issue keys, Airtable record ids,
    hex ids and UUIDs, numbers) replaced by ``_`` and spaces collapsed: the same failure on
    another record reads the same."""
    return " ".join(_VOLATILE.sub("_", message).split())


def signature(error: Mapping[str, Any] | None, rubrics: Iterable[str] = ()) -> str:
    """``rubric <ids>`` when QC failed, else ``<error class>: <normalised message>``."""
    failed = sorted(set(rubrics))
    if failed:
        return "rubric " + ", ".join(failed)
    if not error:
        return "error"
    kind = str(error.get("error_class") or error.get("type") or "error")
    message = normalise(str(error.get("message") or ""))
    return f"{kind}: {message}" if message else kind


def group_id(pipeline: str, onset_step: str, fault_class: str, signature: str) -> str:
    """The stable id of a fingerprint: 12 hex digits of its SHA-256."""
    text = "\x1f".join((pipeline, onset_step, fault_class, signature))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class Fingerprint(BaseModel):
    model_config = ConfigDict(frozen=True)

    pipeline: str
    onset_step: str
    fault_class: str
    signature: str

    @property
    def id(self) -> str:
        return group_id(self.pipeline, self.onset_step, self.fault_class, self.signature)

    @property
    def label(self) -> str:
        where = "" if self.onset_step == NO_ONSET else f" started at {self.onset_step}"
        return f"{self.pipeline}: {self.fault_class}{where} ({self.signature})"


def of_diagnosis(pipeline: str, body: Mapping[str, Any]) -> Fingerprint:
    """The fingerprint of a diagnosis (its JSON body, as ``Diagnosis.model_dump`` gives)."""
    evidence = body.get("evidence") or {}
    return Fingerprint(
        pipeline=pipeline,
        onset_step=str(body.get("onset_step") or body.get("failed_step") or NO_ONSET),
        fault_class=str(body.get("fault_class") or UNDIAGNOSED),
        signature=signature(evidence.get("error"), evidence.get("rubrics") or ()),
    )


def undiagnosed(
    pipeline: str,
    failed_step: str | None,
    error: Mapping[str, Any] | None,
    rubrics: Iterable[str] = (),
) -> Fingerprint:
    """The fingerprint of a failed run no diagnosis has looked at yet."""
    return Fingerprint(
        pipeline=pipeline,
        onset_step=failed_step or NO_ONSET,
        fault_class=UNDIAGNOSED,
        signature=signature(error, rubrics),
    )
