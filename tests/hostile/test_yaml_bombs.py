"""A YAML alias bomb in a pipeline spec, a scenario file or a fault file is one clear error.

The classic "billion laughs": nine anchors, each a list of nine aliases of the one
before, is a few hundred bytes that PyYAML's safe loader would construct into 9⁹ strings.
Every loader of hand-written YAML must refuse it before expanding anything. No timing
assertion here (time budgets live in benchmarks); the bound is structural: the test
process has a memory cap far below what an expansion would need.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.sandbox.files import FaultFileError, load_fault_file
from orchestrator.spec.pipeline import PipelineSpecError, parse_pipeline

STEPTRACE = Path(sys.executable).with_name("steptrace")


def billion_laughs(prefix: str = "") -> str:
    lines = [prefix, 'a0: &a0 "lol"']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


BOMB_SPEC = billion_laughs("name: bomb\nsteps: [{id: s, op: transform, map: {x: trigger.a}}]")


def test_a_bomb_spec_is_refused_naming_the_limit() -> None:
    with pytest.raises(PipelineSpecError) as caught:
        parse_pipeline(BOMB_SPEC, source="bomb.yaml")
    message = str(caught.value)
    assert "bomb.yaml" in message and "expands to more than" in message


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(PipelineSpecError, match="contains it"):
        parse_pipeline("name: loop\nsteps: &s [*s]\n", source="loop.yaml")


@pytest.mark.parametrize("levels", [100, 5000])
def test_deep_nesting_is_refused(levels: int) -> None:
    with pytest.raises(PipelineSpecError, match="nest"):
        parse_pipeline("name: deep\nsteps: " + "[" * levels + "]" * levels, source="deep.yaml")


def test_a_bomb_fault_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(billion_laughs("faults: []"))
    with pytest.raises(FaultFileError, match="expands to more than"):
        load_fault_file(path)


def test_sharing_a_value_through_an_alias_still_works() -> None:
    spec = (
        "name: shared\n"
        "steps:\n"
        "  - {id: one, op: transform, map: &m {a: trigger.a, b: trigger.b}}\n"
        "  - {id: two, op: transform, map: *m}\n"
    )
    loaded = parse_pipeline(spec, source="shared.yaml")
    assert [s.id for s in loaded.spec.steps] == ["one", "two"]


@pytest.mark.parametrize("command", [["run"], ["scenario", "run"]])
def test_the_cli_refuses_a_bomb_clearly_under_a_memory_cap(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "bomb.yaml"
    if command == ["run"]:
        path.write_text(BOMB_SPEC)
    else:
        path.write_text(billion_laughs("name: bomb\npipeline: x.yaml\nruns: {count: 1}"))
    cap = 1024 * 1024 * 1024  # 1 GiB of address space: an expansion needs tens of GB

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = subprocess.run(
        [str(STEPTRACE), *command, str(path)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limit,
        env={**os.environ, "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"},
    )
    assert done.returncode == 2, done.stderr
    assert "expands to more than" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # the file, then the problem
    assert "Traceback" not in done.stderr and "lol" not in done.stderr
