"""Alerts thread by the one failure fingerprint, scoped to the task queue."""

from __future__ import annotations

from orchestrator.humanloop.alerts import AlertContext, alert_blocks
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


def test_the_alert_links_its_group_page_when_the_console_is_known() -> None:
    diagnosis = Diagnosis.model_validate(body("a", "Unknown field 'Priority'"))
    group = of_diagnosis("p", diagnosis.model_dump(mode="json")).id
    context = AlertContext(
        run_id="a", workflow_id="escalation/a", tier=1, tier_name="ops", failure_group=group
    )
    assert f"failure group `{group}`" in str(alert_blocks(diagnosis, context))
    linked = context.model_copy(update={"console_url": "https://console.example/"})
    link = f"<https://console.example/runs?group={group}|failure group {group}>"
    assert link in str(alert_blocks(diagnosis, linked))
