"""A worker without the key a run was started with fails its workflow task with an error
naming the key — and nothing of the run reaches the history in clear text."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from orchestrator.config.settings import Settings
from orchestrator.runtime.codec import new_key_entry
from orchestrator.runtime.connection import connect, converter
from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.pipeline_workflow import PIPELINE_WORKFLOW, PipelineInput
from orchestrator.service.stack import StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.databases import all_database_text

SECRET = "Bearer-WrongKeyPlanted4Kd8Qp"


async def test_a_worker_with_the_wrong_key_fails_clearly_and_writes_no_plaintext(
    dev_server: DevServer, tmp_path: Path, reference: LoadedPipeline
) -> None:
    starter = Settings(
        temporal_address=dev_server.address, codec_keys=SecretStr(new_key_entry("ka"))
    )
    worker = starter.model_copy(update={"codec_keys": SecretStr(new_key_entry("kb"))})
    options = StackOptions(database_url=f"sqlite:///{tmp_path / 'trace.db'}")
    async with open_stack(options, worker) as stack:
        client = await connect(starter)
        handle = await client.start_workflow(
            PIPELINE_WORKFLOW,
            PipelineInput(
                spec=reference.spec.model_dump(mode="json", by_alias=True),
                trigger={"issue": "ENG-101", "note": SECRET},
            ),
            id="wrong-key-run",
            task_queue=stack.task_queue,
        )
        message = await first_task_failure(handle, worker)
        await handle.terminate("test over")

    assert "'ka'" in message and "does not hold" in message, message
    database = all_database_text(f"sqlite:///{tmp_path / 'temporal.db'}")
    assert SECRET.encode() not in database
    assert b"does not hold" not in database  # the failure message itself is encrypted


async def first_task_failure(handle: WorkflowHandle[object, object], worker: Settings) -> str:
    """Follow the history (long poll) to the worker's first failed workflow task; its
    message, decoded with the worker's own key (which encrypted it)."""
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
            return str(await converter(worker).decode_failure(failure))
    raise AssertionError("the workflow closed without a failed workflow task")
