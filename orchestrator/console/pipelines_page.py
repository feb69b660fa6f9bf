"""What the pipelines pages show: each spec's stored versions, the runs that used each,
and the unified diff between two versions (the stored, redacted spec texts)."""

from __future__ import annotations

import difflib

from pydantic import BaseModel

from tracer.store import PipelineVersionRecord, TraceStore


class VersionDiff(BaseModel):
    old: str
    new: str
    diff: str


class PipelineSummary(BaseModel):
    pipeline: str
    versions: int
    runs: int
    latest: str


class PipelinesPage(BaseModel):
    pipelines: list[PipelineSummary]


class PipelinePage(BaseModel):
    pipeline: str
    versions: list[PipelineVersionRecord]
    diff: VersionDiff | None = None


class UnknownVersion(LookupError):
    """A version hash the pipeline does not have; the message lists the known ones."""


def pipelines_page(store: TraceStore) -> PipelinesPage:
    by_pipeline: dict[str, list[PipelineVersionRecord]] = {}
    for version in store.pipeline_versions():
        by_pipeline.setdefault(version.pipeline, []).append(version)
    return PipelinesPage(
        pipelines=[
            PipelineSummary(
                pipeline=name,
                versions=len(versions),
                runs=sum(v.runs for v in versions),
                latest=versions[-1].hash,
            )
            for name, versions in sorted(by_pipeline.items())
        ]
    )


def pipeline_page(
    store: TraceStore, pipeline: str, old: str | None = None, new: str | None = None
) -> PipelinePage:
    """A pipeline's versions, oldest first, and the diff ``old`` → ``new`` (by default
    the two newest versions)."""
    versions = store.pipeline_versions(pipeline)
    if not versions:
        raise LookupError(f"no stored versions of pipeline {pipeline!r}")
    diff = None
    if old or new or len(versions) > 1:
        first = _version(versions, old) if old else versions[-2 if len(versions) > 1 else -1]
        second = _version(versions, new) if new else versions[-1]
        diff = VersionDiff(old=first.hash, new=second.hash, diff=spec_diff(first, second))
    return PipelinePage(pipeline=pipeline, versions=versions, diff=diff)


def spec_diff(old: PipelineVersionRecord, new: PipelineVersionRecord) -> str:
    lines = difflib.unified_diff(
        old.spec.splitlines(keepends=True),
        new.spec.splitlines(keepends=True),
        fromfile=f"{old.pipeline}@{old.hash[:12]}",
        tofile=f"{new.pipeline}@{new.hash[:12]}",
    )
    return "".join(lines)


def _version(versions: list[PipelineVersionRecord], ref: str) -> PipelineVersionRecord:
    found = [v for v in versions if v.hash.startswith(ref)]
    if len(found) != 1:
        known = ", ".join(v.hash[:12] for v in versions)
        raise UnknownVersion(
            f"no single version {ref!r} of {versions[0].pipeline} (known: {known})"
        )
    return found[0]
