"""The pipelines folder: every spec the service runs, loaded and checked at start."""

from __future__ import annotations

from pathlib import Path

from orchestrator.spec.pipeline import LoadedPipeline, PipelineSpecError, load_pipeline


class PipelinesFolderError(ValueError):
    """The folder is missing, empty, or holds a spec that does not load."""


def load_folder(folder: Path | str) -> list[LoadedPipeline]:
    """Every ``*.yaml`` / ``*.yml`` spec in ``folder``; one bad spec stops the service
    (better than serving half the pipelines and dropping the other half's webhooks)."""
    path = Path(folder)
    if not path.is_dir():
        raise PipelinesFolderError(
            f"pipelines folder {str(path)!r} does not exist: set STEPTRACE_PIPELINES_DIR"
        )
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise PipelinesFolderError(f"pipelines folder {str(path)!r} holds no *.yaml spec")
    loaded: list[LoadedPipeline] = []
    names: dict[str, str] = {}
    for file in files:
        try:
            pipeline = load_pipeline(file)
        except PipelineSpecError as exc:
            raise PipelinesFolderError(str(exc)) from exc
        name = pipeline.spec.name
        if name in names:
            raise PipelinesFolderError(
                f"{file}: pipeline name {name!r} is taken by {names[name]}; names are unique"
            )
        names[name] = str(file)
        loaded.append(pipeline)
    return loaded
