"""Data faults in Slack's vocabulary.

``target`` names a channel (``triage`` or ``#triage``) for every kind but
``remove_option``, which names a person by email in ``value``:

- ``rename_field``: channel ``target`` is renamed ``to``. Posting by the old name answers
  ``channel_not_found``; by id it still works, and lists show the new name.
- ``drop_field``: channel ``target`` is archived: writes answer ``is_archived``, reads
  still work, ``exclude_archived`` hides it.
- ``change_type``: channel ``target`` is converted to a private channel (``to: private``)
  the bot is not a member of. Slack hides such channels from non-members, so every
  method answers ``channel_not_found``, even by id, and lists leave it out.
- ``remove_option``: the person whose email is ``value`` is deactivated:
  ``users.lookupByEmail`` answers ``users_not_found``; ``users.info`` shows ``deleted``.
- ``corrupt_value``: messages posted to channel ``target`` are stored with damaged text:
  ``value`` when it is a string, else the UTF-8 bytes read as Latin-1 (emoji and accents
  turn into mojibake). The post succeeds: a silent defect for QC to catch.
- ``concurrent_edit``: on ``chat.update`` in channel ``target``, a person edits the
  message to ``value`` (or deletes it when ``value`` is null), ``before_write`` (our
  update then overwrites theirs, or finds it gone) or ``after_write`` (theirs wins).

Faults are checked against the workspace when the emulator is built and again whenever a
fault is in force, so one added later through ``/_sandbox/faults`` that names an unknown
channel or person is answered with a clear error instead of being ignored.
"""

from __future__ import annotations

from connectors.sandbox.faults import DATA_KINDS, Fault, FaultEngine, FaultKind, FaultSpecError
from connectors.slack.emulator_state import Overlay, Workspace

CHANNEL_KINDS = frozenset(
    {"rename_field", "drop_field", "change_type", "corrupt_value", "concurrent_edit"}
)
CHANGE_TYPES = ("private", "private_channel")
OVERLAY_KINDS = ("rename_field", "drop_field", "change_type", "remove_option")


def check_faults(faults: list[Fault], workspace: Workspace) -> None:
    """Raise :class:`FaultSpecError` for the first Slack data fault naming nothing real."""
    for fault in faults:
        if fault.service == "slack" and fault.kind in DATA_KINDS:
            check_fault(fault, workspace)


def check_fault(fault: Fault, workspace: Workspace) -> None:
    """Raise :class:`FaultSpecError` naming the valid channels or emails if ``fault``
    names something the workspace does not have."""
    where = f"slack fault {fault.describe()}"
    if fault.kind in CHANNEL_KINDS:
        names = sorted(workspace.seed.slack_channel_ids)
        if (fault.target or "").removeprefix("#") not in names:
            raise FaultSpecError(
                f"{where}: no channel {fault.target!r} in the workspace "
                f"(channels: {', '.join(names)})"
            )
    if fault.kind == "change_type" and fault.to not in CHANGE_TYPES:
        raise FaultSpecError(
            f"{where}: a Slack channel can only change type to {' or '.join(CHANGE_TYPES)}"
        )
    if fault.kind == "remove_option":
        emails = sorted(u.email for u in workspace.users.values() if u.email)
        if not isinstance(fault.value, str) or fault.value.lower() not in emails:
            raise FaultSpecError(
                f"{where}: value must be a person's email; no user has {fault.value!r} "
                f"(emails: {', '.join(emails)})"
            )


def overlay(engine: FaultEngine, workspace: Workspace, operation: str | None) -> Overlay:
    """The workspace as the data faults in force for this request make it look."""
    active = engine.active("slack", DATA_KINDS, operation=operation)
    check_faults(active, workspace)
    renamed: dict[str, str] = {}
    archived: set[str] = set()
    private: set[str] = set()
    deactivated: set[str] = set()
    for fault in active:
        if fault.kind == "remove_option":
            email = str(fault.value).lower()
            deactivated.update(u.id for u in workspace.users.values() if u.email == email)
            continue
        if fault.kind not in OVERLAY_KINDS:
            continue
        channel_id = channel_id_of(fault, workspace)
        if fault.kind == "rename_field" and fault.to:
            renamed[channel_id] = fault.to.removeprefix("#")
        elif fault.kind == "drop_field":
            archived.add(channel_id)
        elif fault.kind == "change_type":
            private.add(channel_id)
    return Overlay(renamed, frozenset(archived), frozenset(private), frozenset(deactivated))


def channel_id_of(fault: Fault, workspace: Workspace) -> str:
    """The id of the channel a (checked) fault names."""
    return workspace.seed.slack_channel_ids[(fault.target or "").removeprefix("#")]


def fire_for_channel(
    engine: FaultEngine, workspace: Workspace, kind: FaultKind, channel_id: str, operation: str
) -> Fault | None:
    """Fire a per-request fault of ``kind`` if one in force names this channel."""
    matching = [
        f
        for f in engine.active("slack", [kind], operation=operation)
        if channel_id_of(f, workspace) == channel_id
    ]
    if not matching:
        return None
    return engine.fire("slack", [kind], operation=operation)


def corrupt(text: str, fault: Fault) -> str:
    """The damaged text a ``corrupt_value`` fault stores instead of ``text``."""
    if isinstance(fault.value, str):
        return fault.value
    mangled = text.encode("utf-8").decode("latin-1")
    if mangled == text:  # plain ASCII survives mojibake; cut it short instead
        mangled = text[: max(1, len(text) // 2)] + "\ufffd"
    return mangled
