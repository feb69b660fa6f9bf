"""The sandbox's shared control routes, driven over real HTTP on a running sandbox.

Every emulator serves ``/_sandbox/…`` at its server's root: ``state`` and ``journal`` are
that tool's own, while ``faults`` and ``run`` act on the one fault engine the four share,
so a fault posted through any tool's URL applies wherever its ``service`` says. Each test
starts its own sandbox (port 0), so no fault, run index or journal entry leaks between
tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connectors.sandbox.faults import SERVICES, Service
from connectors.sandbox.server import Sandbox

LINEAR_TOKEN = "lin_api_control_test"
SLACK_TOKEN = "xoxb-control-test"
AIRTABLE_TOKEN = "patCONTROL.test"
MONDAY_TOKEN = "monday-control-test"
ISSUE_QUERY = '{ issue(id: "ENG-101") { identifier dueDate } }'
RENAMED_QUERY = '{ issue(id: "ENG-101") { identifier due } }'


class Driver:
    """A running sandbox and one HTTP connection pool, with the requests the tests make."""

    def __init__(self, sandbox: Sandbox, http: httpx.Client) -> None:
        self.sandbox = sandbox
        self.http = http

    def control(self, service: Service, route: str) -> str:
        """The URL of a control route, at the root of ``service``'s server."""
        return str(httpx.URL(self.sandbox.urls[service]).join(f"/_sandbox/{route}"))

    def post_faults(self, payload: Any, *, via: Service = "linear") -> httpx.Response:
        return self.http.post(self.control(via, "faults"), json=payload)

    def faults(self, *, via: Service = "airtable") -> Any:
        return self.http.get(self.control(via, "faults")).json()

    def begin_run(self, index: int, *, via: Service = "monday") -> httpx.Response:
        return self.http.post(self.control(via, "run"), json={"index": index})

    def run_index(self, service: Service) -> int:
        run: int = self.http.get(self.control(service, "state")).json()["run"]
        return run

    def journal(self, service: Service) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get(self.control(service, "journal")).json()[
            "entries"
        ]
        return entries

    def linear(self, query: str) -> httpx.Response:
        return self.http.post(
            self.sandbox.urls["linear"] + "/graphql",
            json={"query": query},
            headers={"Authorization": LINEAR_TOKEN},
        )

    def slack(self, method: str, **args: Any) -> httpx.Response:
        return self.http.post(
            self.sandbox.urls["slack"] + method,
            json=args or None,
            headers={"Authorization": f"Bearer {SLACK_TOKEN}"},
        )

    def airtable_list(self) -> httpx.Response:
        return self.http.get(self._issues_table(), headers=self._airtable_auth())

    def airtable_create(self, body: Any) -> httpx.Response:
        return self.http.post(self._issues_table(), json=body, headers=self._airtable_auth())

    def monday(self, query: str) -> httpx.Response:
        return self.http.post(
            self.sandbox.urls["monday"] + "/v2",
            json={"query": query},
            headers={"Authorization": MONDAY_TOKEN},
        )

    def _issues_table(self) -> str:
        base = self.sandbox.data.airtable_base_id
        return f"{self.sandbox.urls['airtable']}/v0/{base}/Issues"

    @staticmethod
    def _airtable_auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {AIRTABLE_TOKEN}"}


@pytest.fixture
def sb() -> Iterator[Driver]:
    """A fresh sandbox (seed 7) for this test alone, and a client for it."""
    with Sandbox(seed=7) as running, httpx.Client() as http:
        yield Driver(running, http)


def test_a_fault_posted_while_running_makes_the_next_request_fail(sb: Driver) -> None:
    assert sb.slack("auth.test").json()["ok"] is True

    added = sb.post_faults({"faults": [{"service": "slack", "kind": "revoke_token"}]})

    assert added.status_code == 200
    assert added.json() == {"added": 1}
    assert sb.slack("auth.test").json() == {"ok": False, "error": "token_revoked"}
    # Posted through Linear's URL, listed through Airtable's: the engine is shared.
    listed = sb.faults()["faults"]
    assert listed == [
        {"service": "slack", "kind": "revoke_token", "from_run": 1, "when": "before_write"}
    ]
    assert sb.linear(ISSUE_QUERY).status_code == 200  # other tools are untouched


def test_operation_and_times_limit_a_posted_fault(sb: Driver) -> None:
    fault = {
        "service": "airtable",
        "kind": "http_error",
        "status": 503,
        "operation": "create_records",
        "times": 1,
    }
    assert sb.post_faults([fault], via="airtable").json() == {"added": 1}  # a bare list
    record = {"records": [{"fields": {"Linear ID": "ENG-101", "Title": "Checkout"}}]}

    listed = sb.airtable_list()
    failed = sb.airtable_create(record)
    retried = sb.airtable_create(record)

    assert listed.status_code == 200  # another operation
    assert failed.status_code == 503
    assert failed.json() == {
        "error": {
            "type": "SERVICE_UNAVAILABLE",
            "message": "The service is temporarily unavailable.",
        }
    }
    assert retried.status_code == 200  # times: 1 is used up


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [
        ("linear", 400, "RATELIMITED"),  # Linear reports rate limits as HTTP 400
        ("airtable", 429, "RATE_LIMIT_REACHED"),
        ("monday", 429, "COMPLEXITY_BUDGET_EXHAUSTED"),
        ("slack", 429, "ratelimited"),
    ],
)
def test_an_injected_429_answers_each_tools_rate_limit(
    sb: Driver, service: Service, status: int, code: str
) -> None:
    fault = {"service": service, "kind": "http_error", "status": 429, "retry_after": 7}
    assert sb.post_faults([fault]).status_code == 200
    answers: dict[Service, Callable[[], httpx.Response]] = {
        "linear": lambda: sb.linear(ISSUE_QUERY),
        "airtable": sb.airtable_list,
        "monday": lambda: sb.monday("{ me { id } }"),
        "slack": lambda: sb.slack("auth.test"),
    }

    answer = answers[service]()

    assert answer.status_code == status
    assert answer.headers["retry-after"] == "7"
    assert code in answer.text


def test_posting_a_run_switches_a_from_run_fault_on(sb: Driver) -> None:
    fault = {
        "service": "linear",
        "kind": "rename_field",
        "target": "dueDate",
        "to": "due",
        "from_run": 2,
    }
    assert sb.post_faults([fault], via="slack").status_code == 200
    before = sb.linear(ISSUE_QUERY)

    switched = sb.begin_run(2)
    after = sb.linear(ISSUE_QUERY)
    renamed = sb.linear(RENAMED_QUERY)

    assert before.status_code == 200
    assert before.json()["data"]["issue"]["dueDate"] is not None
    assert switched.json() == {"run": 2}
    assert after.status_code == 400
    error = after.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert 'Cannot query field "dueDate" on type "Issue"' in error["message"]
    assert renamed.json()["data"]["issue"]["due"] == before.json()["data"]["issue"]["dueDate"]
    # The run index is the sandbox's, whichever tool's URL set it.
    assert {sb.run_index(service) for service in SERVICES} == {2}


def test_deleting_faults_restores_service(sb: Driver) -> None:
    sb.post_faults([{"service": "monday", "kind": "revoke_token"}])
    refused = sb.monday("{ me { id } }")

    cleared = sb.http.delete(sb.control("slack", "faults"))
    served = sb.monday("{ me { id } }")

    assert refused.status_code == 401
    assert refused.json()["error_code"] == "Unauthorized"
    assert cleared.json() == {"faults": []}
    assert sb.faults(via="monday") == {"faults": []}
    assert served.status_code == 200
    assert served.json()["data"]["me"]["id"]


def test_an_operation_limits_a_monday_schema_fault(sb: Driver) -> None:
    fault = {"service": "monday", "kind": "drop_field", "target": "Due", "operation": "create_item"}
    sb.post_faults([fault])

    columns = sb.monday("{ boards { columns { title } } }").json()
    titles = [c["title"] for c in columns["data"]["boards"][0]["columns"]]

    assert "Due" in titles  # ``boards`` is not ``create_item``: the column is still there


def test_the_journal_shows_each_request_with_run_operation_status_and_fault(
    sb: Driver,
) -> None:
    sb.slack("auth.test")
    sb.slack("chat.postMessage", channel="triage", text="run 1")
    sb.begin_run(3, via="slack")
    sb.post_faults(
        [{"service": "slack", "kind": "http_error", "status": 503, "operation": "chat.postMessage"}]
    )
    sb.slack("chat.postMessage", channel="triage", text="run 3")
    sb.linear(ISSUE_QUERY)

    entries = sb.journal("slack")

    assert entries == [
        {
            "service": "slack",
            "run": 1,
            "operation": "auth.test",
            "method": "POST",
            "path": "/api/auth.test",
            "status": 200,
            "fault": None,
        },
        {
            "service": "slack",
            "run": 1,
            "operation": "chat.postMessage",
            "method": "POST",
            "path": "/api/chat.postMessage",
            "status": 200,
            "fault": None,
        },
        {
            "service": "slack",
            "run": 3,
            "operation": "chat.postMessage",
            "method": "POST",
            "path": "/api/chat.postMessage",
            "status": 503,
            "fault": "http_error",
        },
    ]
    # Each tool's journal holds only its own requests; control routes are not journaled.
    assert [(e["service"], e["operation"], e["run"]) for e in sb.journal("linear")] == [
        ("linear", "issue", 3)
    ]


def test_the_journal_names_a_request_refused_for_lack_of_a_token(sb: Driver) -> None:
    sb.http.post(sb.sandbox.urls["linear"] + "/graphql", json={"query": ISSUE_QUERY})
    assert sb.journal("linear") == [
        {
            "service": "linear",
            "run": 1,
            "operation": "issue",
            "method": "POST",
            "path": "/graphql",
            "status": 401,
            "fault": "missing_token",
        }
    ]


@pytest.mark.parametrize(
    ("route", "body", "status", "fragments"),
    [
        ("faults", b"not json", 400, ["wants a JSON fault list"]),
        ("faults", b'{"fault": []}', 400, ["no 'faults:' list"]),
        ("faults", b'{"faults": {"service": "slack"}}', 400, ["must be a list of mappings"]),
        (
            "faults",
            b'[{"service": "slack", "kind": "explode"}]',
            400,
            ["fault #1", "unknown kind 'explode'", "known: http_error"],
        ),
        (
            "faults",
            b'[{"service": "jira", "kind": "latency", "seconds": 1}]',
            400,
            ["unknown service 'jira'", "known: linear, airtable, monday, slack"],
        ),
        (
            "faults",
            b'[{"service": "slack", "kind": "revoke_token"}, {"service": "linear", '
            b'"kind": "http_error"}]',
            400,
            ["fault #2", "needs 'status'"],
        ),
        (
            "faults",
            b'[{"service": "linear", "kind": "latency", "seconds": 1, "colour": "red"}]',
            400,
            ["colour", "Extra inputs are not permitted"],
        ),
        ("run", b'{"index": 0}', 400, ['wants {"index": N>=1}']),
        ("run", b'{"index": true}', 400, ['wants {"index": N>=1}']),
        ("run", b"3", 400, ['wants {"index": N>=1}']),
        ("runs", b'{"index": 2}', 404, ["unknown sandbox control route /_sandbox/runs"]),
    ],
)
def test_a_malformed_post_gets_an_error_naming_the_problem(
    sb: Driver, route: str, body: bytes, status: int, fragments: list[str]
) -> None:
    answer = sb.http.post(sb.control("airtable", route), content=body)

    assert answer.status_code == status
    message = answer.json()["error"]
    for fragment in fragments:
        assert fragment in message
    # Nothing half-applied: a refused list adds no fault, a refused run changes nothing.
    assert sb.faults() == {"faults": []}
    assert sb.run_index("airtable") == 1


def test_only_get_post_and_delete_are_allowed_on_faults(sb: Driver) -> None:
    answer = sb.http.put(sb.control("linear", "faults"), json=[])
    assert answer.status_code == 405
    assert answer.json() == {"error": "PUT not allowed on /_sandbox/faults"}


def test_a_slack_fault_naming_no_channel_is_reported_by_every_slack_call(
    sb: Driver,
) -> None:
    # The shared route cannot know Slack's channels, so it accepts the fault; Slack then
    # refuses every call with the reason instead of silently ignoring the fault.
    fault = {"service": "slack", "kind": "drop_field", "target": "#general"}
    assert sb.post_faults([fault]).status_code == 200

    answer = sb.slack("auth.test")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_sandbox_fault"
    assert "no channel '#general'" in answer.json()["detail"]
