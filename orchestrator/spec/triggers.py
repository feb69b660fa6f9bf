"""How a pipeline starts by itself: webhooks from the tools, and a schedule.

A spec may say::

    triggers:
      - tool: linear
        events: [Issue]                 # the delivery's type (Linear `type`)
        actions: [update]               # create / update / remove
        filter: "data.state.name == 'Todo' && updatedFrom.stateId != null"
        input: {issue: data.identifier} # the run's trigger, from the delivery
    schedule:
      cron: "0 8 * * 1-5"
      timezone: Europe/Berlin

``filter`` and every ``input`` value are JMESPath expressions over the delivery as the
receiver normalises it (:mod:`orchestrator.triggers.deliveries`): ``type``, ``action``,
``data``, ``updatedFrom`` (previous values, Linear and Monday) and ``tool``.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tracer.lineage import is_valid_expression

WebhookTool = Literal["linear", "airtable", "monday"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WebhookTrigger(_Strict):
    """One kind of delivery that starts a run of this pipeline."""

    tool: WebhookTool
    events: list[str] = Field(default_factory=list, description="delivery types; empty = any")
    actions: list[str] = Field(default_factory=list, description="create/update/remove; any")
    filter: str | None = Field(default=None, description="JMESPath; the run starts when truthy")
    input: dict[str, str] = Field(
        default_factory=dict, description="trigger field -> JMESPath over the delivery"
    )

    @field_validator("filter")
    @classmethod
    def _filter_parses(cls, value: str | None) -> str | None:
        if value is not None:
            _check_expression(value)
        return value

    @field_validator("input")
    @classmethod
    def _inputs_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for expression in value.values():
            _check_expression(expression)
        return value


class ScheduleSpec(_Strict):
    """When the pipeline runs by the clock: a cron line, read in ``timezone``."""

    cron: str = Field(
        min_length=5, description="minute hour day month weekday, or Temporal's @every 10m"
    )
    timezone: str = "UTC"
    trigger: dict[str, str] = Field(
        default_factory=dict, description="the run's trigger (literal values)"
    )
    paused: bool = False

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        # Temporal also reads @hourly, @daily… and @every <duration> (e.g. @every 15m).
        if not value.startswith("@") and len(value.split()) != 5:
            raise ValueError(f"cron {value!r} needs five fields: minute hour day month weekday")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (an IANA name such as UTC)") from exc
        return value


def _check_expression(expression: str) -> None:
    error = is_valid_expression(expression)
    if error is not None:
        raise ValueError(f"{expression!r} is not a JMESPath expression: {error}")
