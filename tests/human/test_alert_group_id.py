"""Alerts thread by the one failure fingerprint, scoped to the task queue."""

from __future__ import annotations

from orchestrator.runtime.escalation_handoff import failure_group_id
from tests.tracer.test_fingerprint import body
from tracer.diagnosis_model import Diagnosis
from tracer.fingerprint import of_diagnosis


def test_alerts_thread_by_the_fingerprint_within_one_task_queue() -> None:
    diagnosis = Diagnosis.model_validate(body("a", "Unknown field 'Priority'"))
    group = of_diagnosis("p", diagnosis.model_dump(mode="json")).id
    service = failure_group_id("p", diagnosis, task_queue="steptrace")
    assert service.startswith(f"alert-group/p/{group}-")
    again = Diagnosis.model_validate(body("b", "Unknown field 'Status'"))
    assert failure_group_id("p", again, task_queue="steptrace") == service
    assert failure_group_id("p", diagnosis, task_queue="test-1234") != service
