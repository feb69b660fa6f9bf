"""Every data fault in Linear's vocabulary, seen through the client."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from connectors.errors import InvalidValueError, UnknownFieldError, ValidationError
from connectors.linear import IssueCreate, IssueUpdate, LinearClient
from connectors.sandbox.server import Sandbox
from tests.connectors.linear.helpers import fault, stored_issues


async def test_rename_field_from_run_two_is_schema_drift(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("rename_field", target="dueDate", to="dueOn", from_run=2)])
    assert (await client.get_issue("ENG-101")).identifier == "ENG-101"
    sandbox.begin_run(2)
    with pytest.raises(UnknownFieldError) as caught:
        await client.get_issue("ENG-101")
    assert caught.value.field == "dueDate"
    assert caught.value.message.startswith('Cannot query field "dueDate" on type "Issue"')


async def test_rename_field_breaks_writes_too(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("rename_field", target="dueDate", to="dueOn")])
    new = IssueCreate(title="t", due_date=dt.date(2026, 12, 24))
    with pytest.raises(UnknownFieldError) as caught:
        await client.create_issue(new)
    assert caught.value.field == "dueDate"
    assert len(stored_issues(sandbox)) == len(sandbox.data.issues)


async def test_drop_field_of_a_nullable_field_is_silently_none(
    client: LinearClient, sandbox: Sandbox
) -> None:
    due = sandbox.data.issue("ENG-101").due_date
    assert due is not None
    sandbox.add_faults([fault("drop_field", target="dueDate")])
    assert (await client.get_issue("ENG-101")).due_date is None
    assert stored_issues(sandbox)[0]["dueDate"] == due.isoformat()  # only the answer lost it


async def test_drop_field_of_a_required_field_fails_loudly(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("drop_field", target="title")])
    with pytest.raises(ValidationError) as caught:
        await client.list_issues(first=3)
    assert caught.value.field == "title"


@pytest.mark.parametrize(
    ("target", "to", "sent"),
    [
        ("priority", "string", "High"),
        ("dueDate", "datetime", "T00:00:00.000Z"),
        ("dueDate", "number", None),
    ],
)
async def test_change_type_is_refused_not_coerced(
    client: LinearClient, sandbox: Sandbox, target: str, to: str, sent: str | None
) -> None:
    identifier = next(
        i.identifier for i in sandbox.data.issues if i.priority == 2 and i.due_date is not None
    )
    sandbox.add_faults([fault("change_type", target=target, to=to)])
    with pytest.raises(ValidationError) as caught:
        await client.get_issue(identifier)
    error = caught.value
    assert error.field == target
    assert error.code == "unexpected_response_shape"
    assert not error.retryable
    if sent is not None:
        assert sent in error.message


async def test_change_type_of_an_object_field_breaks_the_query(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("change_type", target="state", to="string")])
    with pytest.raises(UnknownFieldError) as caught:
        await client.get_issue("ENG-101")
    assert caught.value.field == "state"
    assert "must not have a selection" in caught.value.message


async def test_corrupt_value_replaces_the_value(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults([fault("corrupt_value", target="title", value="Checkout ok", times=1)])
    assert (await client.get_issue("ENG-101")).title == "Checkout ok"
    assert (await client.get_issue("ENG-101")).title == sandbox.data.issue("ENG-101").title


async def test_corrupt_value_without_value_damages_text(
    client: LinearClient, sandbox: Sandbox
) -> None:
    original = sandbox.data.issue("ENG-102")
    sandbox.add_faults([fault("corrupt_value", target="description")])
    seen = await client.get_issue("ENG-102")
    assert seen.description is not None
    assert original.description is not None
    assert seen.description != original.description
    assert len(seen.description) < len(original.description.encode())


async def test_corrupt_priority_is_another_valid_level(
    client: LinearClient, sandbox: Sandbox
) -> None:
    sandbox.add_faults([fault("corrupt_value", target="priority", operation="issue")])
    seen = await client.get_issue("ENG-103")
    assert seen.priority != sandbox.data.issue("ENG-103").priority
    assert 1 <= seen.priority <= 4


async def test_remove_option_state(client: LinearClient, sandbox: Sandbox) -> None:
    await client.update_issue("ENG-110", IssueUpdate(state="In Review"))  # names now cached
    sandbox.add_faults([fault("remove_option", target="state", value="In Review", from_run=2)])
    sandbox.begin_run(2)
    names = [s.name for s in await client.list_workflow_states("ENG")]
    assert "In Review" not in names
    with pytest.raises(InvalidValueError) as caught:
        await client.update_issue("ENG-111", IssueUpdate(state="In Review"))
    assert (caught.value.code, caught.value.field) == ("INVALID_INPUT", "stateId")
    assert "WorkflowState" in caught.value.message


async def test_remove_option_label(
    client: LinearClient, sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    tagged = next(i for i in sandbox.data.issues if "bug" in i.labels)
    await client.update_issue("ENG-101", IssueUpdate(labels=("bug",)))  # names now cached
    sandbox.add_faults([fault("remove_option", target="labels", value="bug")])
    assert "bug" not in (await client.get_issue(tagged.identifier)).labels
    with pytest.raises(InvalidValueError) as refused:
        await client.create_issue(IssueCreate(title="t", labels=("bug",)))
    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", "labelIds")
    fresh = LinearClient(http, base_url=sandbox.urls["linear"], token="k")
    with pytest.raises(InvalidValueError) as caught:
        await fresh.create_issue(IssueCreate(title="t", labels=("bug",)))
    assert caught.value.field == "labelIds"


async def test_concurrent_edit_before_our_write(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults(
        [fault("concurrent_edit", target="title", value="Edited by Grace", when="before_write")]
    )
    old = await client.get_issue("ENG-120")
    result = await client.update_issue("ENG-120", IssueUpdate(priority=1))
    assert result.write.before is not None
    assert result.write.before["title"] == old.title  # what we read: the person's edit is newer
    assert result.issue.title == "Edited by Grace"
    assert result.issue.updated_at > old.updated_at


async def test_concurrent_edit_after_our_write(client: LinearClient, sandbox: Sandbox) -> None:
    sandbox.add_faults(
        [fault("concurrent_edit", target="state", value="Canceled", when="after_write")]
    )
    result = await client.update_issue("ENG-121", IssueUpdate(state="Done"))
    assert result.issue.state.name == "Done"
    now = await client.get_issue("ENG-121")
    assert now.state.name == "Canceled"
    assert now.updated_at > result.issue.updated_at
