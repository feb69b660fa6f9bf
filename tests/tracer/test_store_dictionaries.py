"""Payload dictionaries: trained on the store's own payloads, shared through the table,
found on decode by the frame's id, retrained when the payload shapes drift; rows written
before (or without) a dictionary stay readable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tracer.payloads import UnknownDictionaryError, decode, encode, frame_dictionary
from tracer.store import (
    AttemptRecord,
    AttemptStatus,
    DictionarySettings,
    GroupCommitter,
    StoreDataError,
    TraceStore,
)

# Small thresholds so a test trains after a few dozen payloads.
SMALL = DictionarySettings(
    first_after_payloads=40, first_after_bytes=8 * 1024, drift_window=40, refresh_seconds=0
)


def _issue(n: int) -> dict[str, Any]:
    return {
        "issue": {
            "identifier": f"ENG-{n}",
            "title": f"Checkout fails for order {n * 7919 % 100000}",
            "url": f"https://linear.app/acme/issue/ENG-{n}",
            "state": {"name": ["Todo", "In Progress", "Done"][n % 3], "type": "started"},
            "priority": n % 5,
            "labels": [{"name": "bug"}, {"name": f"area-{n % 4}"}],
            "assignee": {"email": f"user{n % 9}@example.com", "name": f"User {n % 9}"},
        }
    }


def _board_row(n: int) -> dict[str, Any]:
    """A payload of another shape altogether: a drift."""
    return {
        "rows": [
            {"cells": [n * i % 97, f"{n}-{i}", i % 2 == 0, None], "key": f"K{n:05d}{i:03d}"}
            for i in range(12)
        ]
    }


def _record(n: int, input_hash: str) -> AttemptRecord:
    now = datetime.now(UTC)
    return AttemptRecord(
        workflow_id=f"wf-{n}",
        temporal_run_id="r1",
        activity_id="1",
        attempt=1,
        run_id=f"wf-{n}/r1",
        step_id="fetch_issue",
        step_index=0,
        op="linear.get_issue",
        status=AttemptStatus.SUCCEEDED,
        input_hash=input_hash,
        started_at=now,
        ended_at=now,
        duration_ms=0,
    )


def _write(store: TraceStore, values: list[Any], first: int = 0) -> list[str]:
    """Record one attempt per value, encoded with the store's codec; return the hashes."""
    hashes = []
    for n, value in enumerate(values, start=first):
        payload = encode(value, codec=store.codec)
        store.record_attempts([_record(n, payload.hash)], [payload])
        hashes.append(payload.hash)
        store.maintain_dictionaries()
    return hashes


def _frames(store: TraceStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT hash, data FROM payload"))
        return {h: frame_dictionary(bytes(d)) for h, d in rows}


def _dictionary_rows(store: TraceStore) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        query = sa.text("SELECT dict_id, reason FROM payload_dictionary ORDER BY created_at")
        return [(int(i), str(r)) for i, r in conn.execute(query)]


@pytest.fixture
def small_store(store_url: str) -> Iterator[TraceStore]:
    with TraceStore.open(store_url, dictionaries=SMALL) as store:
        yield store


def test_a_dictionary_is_trained_stored_and_used(small_store: TraceStore) -> None:
    values = [_issue(n) for n in range(120)]
    hashes = _write(small_store, values)

    [(dict_id, reason)] = _dictionary_rows(small_store)
    assert reason == "first" and small_store.codec.current_id == dict_id
    frames = _frames(small_store)
    # Payloads after the training, and the sampled ones before it, name the dictionary.
    assert all(frames[h] == dict_id for h in hashes[-40:])
    assert sum(1 for f in frames.values() if f == dict_id) > 100
    for value, digest in zip(values, hashes, strict=True):
        assert small_store.get_payload(digest) == value


def test_a_dictionary_halves_what_plain_zstd_keeps(small_store: TraceStore) -> None:
    values = [_issue(n) for n in range(300)]
    _write(small_store, values)
    plain = sum(len(encode(v).data) for v in values)
    with_dictionary = small_store.stored_bytes()  # the dictionary's own bytes included
    assert with_dictionary < plain / 2


def test_another_worker_decodes_by_frame_id_and_adopts_the_dictionary(
    store_url: str, small_store: TraceStore
) -> None:
    hashes = _write(small_store, [_issue(n) for n in range(120)])
    [(dict_id, _)] = _dictionary_rows(small_store)

    with TraceStore.open(store_url, dictionaries=SMALL) as other:
        assert other.codec.current_id == dict_id  # adopted at open
        assert other.get_payload(hashes[-1]) == _issue(119)
        payload = encode(_issue(500), codec=other.codec)
        assert frame_dictionary(payload.data) == dict_id


def test_a_reader_loads_a_dictionary_stored_after_it_opened(
    store_url: str, small_store: TraceStore
) -> None:
    with TraceStore.open(store_url, dictionaries=DictionarySettings(enabled=False)) as reader:
        hashes = _write(small_store, [_issue(n) for n in range(120)])
        assert reader.codec.current_id == 0
        assert reader.get_payload(hashes[-1]) == _issue(119)


def test_drifted_payloads_get_a_new_dictionary_and_old_rows_stay_readable(
    small_store: TraceStore,
) -> None:
    issues = [_issue(n) for n in range(120)]
    old = _write(small_store, issues)
    boards = [_board_row(n) for n in range(400)]
    new = _write(small_store, boards, first=1000)

    reasons = [reason for _, reason in _dictionary_rows(small_store)]
    assert reasons[0] == "first" and "drift" in reasons[1:]
    for value, digest in zip(issues + boards, old + new, strict=True):
        assert small_store.get_payload(digest) == value


def test_rows_stored_without_a_dictionary_stay_readable(small_store: TraceStore) -> None:
    plain = encode({"written": "before dictionaries existed"})
    assert frame_dictionary(plain.data) == 0
    small_store.record_attempts([_record(9999, plain.hash)], [plain])
    _write(small_store, [_issue(n) for n in range(120)])
    assert small_store.get_payload(plain.hash) == {"written": "before dictionaries existed"}


def test_a_frame_naming_a_missing_dictionary_says_so(small_store: TraceStore) -> None:
    hashes = _write(small_store, [_issue(n) for n in range(120)])
    with small_store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM payload_dictionary"))
    url = small_store.engine.url.render_as_string(False)
    with (
        TraceStore.open(url) as reader,
        pytest.raises(StoreDataError, match="not in the payload_dictionary table"),
    ):
        reader.get_payload(hashes[-1])


def test_decoding_outside_a_store_names_the_dictionary(small_store: TraceStore) -> None:
    _write(small_store, [_issue(n) for n in range(120)])
    payload = encode(_issue(1), codec=small_store.codec)
    with pytest.raises(UnknownDictionaryError, match=r"TraceStore\.get_payload"):
        decode(payload.data)


def test_the_committer_trains_after_its_batches(small_store: TraceStore) -> None:
    committer = GroupCommitter(small_store)
    try:
        for n in range(120):
            payload = encode(_issue(n), codec=committer.codec)
            committer.submit(_record(n, payload.hash), [payload]).result()
    finally:
        committer.close()
    assert committer.stats.dictionaries == 1
    assert committer.stats.maintenance_errors == 0
    assert len(_dictionary_rows(small_store)) == 1


def test_disabled_dictionaries_train_nothing(store_url: str) -> None:
    off = DictionarySettings(enabled=False)
    with TraceStore.open(store_url, dictionaries=off) as store:
        _write(store, [_issue(n) for n in range(120)])
        assert _dictionary_rows(store) == []
        assert set(_frames(store).values()) == {0}
