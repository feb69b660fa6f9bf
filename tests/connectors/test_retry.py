"""The rules of a retry inside an attempt, on plain callables (no tool involved)."""

from __future__ import annotations

import pytest

from connectors.errors import ConnectorTimeoutError, NotFoundError, RateLimitError, TransientError
from connectors.retry import RetryPolicy, is_graphql_mutation, recording_retries, retrying

FAST = RetryPolicy(tries=3, base_delay=0.0, max_delay=1.0)


class Flaky:
    """Fails with each of ``errors`` in turn, then answers ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def transient() -> TransientError:
    return TransientError("503", tool="airtable", operation="list_records", status=503)


async def test_an_idempotent_call_is_retried_and_each_retry_is_recorded() -> None:
    call = Flaky(transient(), transient())
    with recording_retries() as log:
        assert await retrying(call, tool="airtable", operation="x", idempotent=True, policy=FAST)
    assert call.calls == 3
    assert [(r.try_number, r.error_class) for r in log] == [
        (1, "TransientError"),
        (2, "TransientError"),
    ]


async def test_the_tries_are_bounded_and_the_last_error_is_raised() -> None:
    call = Flaky(transient(), transient(), transient(), transient())
    with pytest.raises(TransientError):
        await retrying(call, tool="airtable", operation="x", idempotent=True, policy=FAST)
    assert call.calls == 3


async def test_a_permanent_error_is_never_retried() -> None:
    call = Flaky(NotFoundError("gone", tool="slack", operation="x"))
    with pytest.raises(NotFoundError):
        await retrying(call, tool="slack", operation="x", idempotent=True, policy=FAST)
    assert call.calls == 1


async def test_a_long_retry_after_is_left_to_the_attempt_retry() -> None:
    limited = RateLimitError("slow down", tool="slack", operation="x", retry_after=30)
    call = Flaky(limited)
    with pytest.raises(RateLimitError):
        await retrying(call, tool="slack", operation="x", idempotent=True, policy=FAST)
    assert call.calls == 1


async def test_a_write_that_may_have_landed_is_not_sent_again_blind() -> None:
    lost = ConnectorTimeoutError("no answer", tool="slack", operation="post")
    call = Flaky(lost)
    with pytest.raises(ConnectorTimeoutError):
        await retrying(call, tool="slack", operation="post", idempotent=False, policy=FAST)
    assert call.calls == 1


async def test_a_refused_write_is_retried_even_when_not_idempotent() -> None:
    call = Flaky(RateLimitError("429", tool="slack", operation="post", retry_after=0))
    assert await retrying(call, tool="slack", operation="post", idempotent=False, policy=FAST)
    assert call.calls == 2


async def test_reconcile_finds_a_landed_write_and_nothing_is_sent_again() -> None:
    call = Flaky(ConnectorTimeoutError("no answer", tool="monday", operation="create"))

    async def found() -> str:
        return "the item the lost create made"

    with recording_retries() as log:
        answer = await retrying(
            call, tool="monday", operation="create", idempotent=False, reconcile=found, policy=FAST
        )
    assert (answer, call.calls) == ("the item the lost create made", 1)
    assert [(r.reconciled, r.delay_seconds) for r in log] == [(True, 0.0)]


async def test_reconcile_finding_nothing_means_the_write_is_sent_again() -> None:
    call = Flaky(transient())

    async def nothing() -> str | None:
        return None

    assert await retrying(
        call, tool="monday", operation="create", idempotent=False, reconcile=nothing, policy=FAST
    )
    assert call.calls == 2


def test_a_mutation_is_told_from_a_query_after_fragments() -> None:
    fragment = "fragment F on Item { id }\n"
    assert is_graphql_mutation(fragment + "mutation ($a: ID!) { create_item { ...F } }")
    assert not is_graphql_mutation(fragment + "query ($a: ID!) { items { ...F } }")
    assert not is_graphql_mutation("{ items { name } }  # a mutation would be refused")


async def test_a_landed_write_is_read_back_even_when_no_retry_may_follow() -> None:
    # A 504 that asks for a long wait: no retry inside the attempt, but the write landed.
    lost = ConnectorTimeoutError("504", tool="airtable", operation="upsert", retry_after=30)
    call = Flaky(lost)

    async def found() -> str:
        return "the record the lost upsert made"

    with recording_retries() as log:
        answer = await retrying(
            call,
            tool="airtable",
            operation="upsert",
            idempotent=False,
            reconcile=found,
            policy=FAST,
        )
    assert answer == "the record the lost upsert made"
    assert [r.reconciled for r in log] == [True]
