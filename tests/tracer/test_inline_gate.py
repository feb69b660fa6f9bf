"""The fast path's gate: open while commits on the caller's thread are quick, closed by a
slow median or one stall, reopened by a quick probe (a clock the test moves)."""

from __future__ import annotations

from tracer.store.inline import InlineGate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_gate_without_a_budget_is_always_open() -> None:
    gate = InlineGate(None)
    for _ in range(20):
        gate.observe(5.0)
    assert gate.open() and not gate.closed


def test_one_slow_commit_among_quick_ones_closes_nothing() -> None:
    gate = InlineGate(0.005)
    for seconds in (0.001, 0.002, 0.03, 0.001, 0.001):
        assert gate.open()
        gate.observe(seconds)
    assert not gate.closed


def test_slow_commits_close_the_gate_until_a_quick_probe() -> None:
    clock = Clock()
    gate = InlineGate(0.005, first_probe_s=1.0, clock=clock)
    gate.observe(0.001)
    gate.observe(0.009)
    gate.observe(0.009)
    assert gate.closed and not gate.open()
    clock.now += 1.0
    assert gate.open(), "a probe after first_probe_s"
    assert not gate.open(), "one probe at a time"
    gate.observe(0.001)
    assert not gate.closed and gate.open()


def test_a_stall_closes_at_once_and_slow_probes_back_off() -> None:
    clock = Clock()
    gate = InlineGate(0.005, stall_s=0.1, first_probe_s=1.0, last_probe_s=3.0, clock=clock)
    gate.observe(0.001)
    gate.observe(2.0)  # the server stopped answering
    assert gate.closed
    waits = []
    for _ in range(4):
        waited = 0.0
        while not gate.open():
            clock.now += 0.5
            waited += 0.5
        waits.append(waited)
        gate.observe(0.5)  # still slow
    assert waits == [1.0, 2.0, 3.0, 3.0]
    assert gate.closed


def test_a_probe_not_taken_is_owed() -> None:
    """A probe let through while the committer thread was writing measured nothing:
    the next commit probes instead of the gate staying closed for good."""
    clock = Clock()
    gate = InlineGate(0.005, first_probe_s=1.0, clock=clock)
    gate.observe(0.5)
    clock.now += 1.0
    assert gate.open()
    gate.not_tried()
    assert gate.open()
    gate.observe(0.001)
    assert not gate.closed
