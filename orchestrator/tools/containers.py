"""Which arguments of a tool op choose the container it works on (an Airtable table, a
Monday board): pure, so the pipeline workflow can name a step's container at its end
without the run's arguments being read back from the store."""

from __future__ import annotations

from typing import Any

_CONTAINER_ARGS = {"airtable": ("base", "table"), "monday": ("board",)}


def container_args(op: str) -> tuple[str, ...]:
    """The arguments of ``op`` that choose its container (all that
    :func:`~orchestrator.tools.destinations.fetch_schema` reads of them); none for
    Linear's workspace and Slack's channels."""
    return _CONTAINER_ARGS.get(op.split(".")[0], ())


def container_key(op: str, args: dict[str, Any]) -> tuple[str, ...]:
    """What tells the container ``op`` works on from another, without reading it."""
    return (op.split(".")[0], *(str(args.get(name)) for name in container_args(op)))
