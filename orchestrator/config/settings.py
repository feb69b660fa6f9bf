"""Where steptrace finds its parts, from ``STEPTRACE_*`` environment variables.

Nothing set means the embedded default (DESIGN §2): a Temporal dev server started by
steptrace, the SQLite trace store under ``.steptrace/``, and the sandbox emulators for
the four tools. Setting a tool's URL and token points that tool at the real API.

The Temporal connection (docs/deploy.md): ``STEPTRACE_TEMPORAL_ADDRESS``,
``STEPTRACE_TEMPORAL_NAMESPACE``, TLS with ``STEPTRACE_TEMPORAL_TLS=1`` and optionally
``STEPTRACE_TEMPORAL_TLS_CA`` (server CA file), ``STEPTRACE_TEMPORAL_TLS_CERT`` and
``STEPTRACE_TEMPORAL_TLS_KEY`` (client certificate and key files, mTLS),
``STEPTRACE_TEMPORAL_TLS_SERVER_NAME``; ``STEPTRACE_TEMPORAL_API_KEY`` (Temporal Cloud;
implies TLS). Payload encryption keys: ``STEPTRACE_CODEC_KEYS`` or
``STEPTRACE_CODEC_KEYS_FILE`` (see :mod:`orchestrator.runtime.codec`).
``STEPTRACE_EMBEDDED=0`` (the production image) forbids starting the dev server or the
sandbox: a missing address or tool endpoint is then an error, not a silent emulator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, SecretStr

from tracer.detectors import PII_KINDS, PiiKind
from tracer.redaction import DEFAULT_SECRET_KEYS, RedactionPolicy

Tool = Literal["linear", "airtable", "monday", "slack"]
TOOLS: tuple[Tool, ...] = get_args(Tool)
SANDBOX_TOKEN = "sandbox-token"


class ToolEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    base_url: str
    token: SecretStr


class TemporalTls(BaseModel):
    """TLS to the Temporal frontend; file paths, read when connecting."""

    model_config = ConfigDict(frozen=True)

    server_ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    server_name: str | None = None


class Settings(BaseModel):
    """Everything configurable, with the embedded defaults."""

    model_config = ConfigDict(frozen=True)

    database_url: str | None = None
    temporal_address: str | None = None
    namespace: str = "default"
    task_queue: str = "steptrace"
    endpoints: dict[Tool, ToolEndpoint] = {}
    airtable_base: str = "Ops Tracker"
    monday_board: str = "Triage"
    temporal_ui_url: str | None = None
    temporal_tls: TemporalTls | None = None
    temporal_api_key: SecretStr | None = None
    codec_keys: SecretStr | None = None
    codec_keys_file: str | None = None
    embedded: bool = True
    redaction: RedactionPolicy = RedactionPolicy()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        endpoints: dict[Tool, ToolEndpoint] = {}
        for tool in TOOLS:
            url = env.get(f"STEPTRACE_{tool.upper()}_URL")
            token = env.get(f"STEPTRACE_{tool.upper()}_TOKEN")
            if url and token:
                endpoints[tool] = ToolEndpoint(base_url=url, token=SecretStr(token))
        return cls(
            database_url=env.get("STEPTRACE_DATABASE_URL") or None,
            temporal_address=env.get("STEPTRACE_TEMPORAL_ADDRESS") or None,
            namespace=env.get("STEPTRACE_TEMPORAL_NAMESPACE")
            or env.get("STEPTRACE_NAMESPACE", "default"),
            task_queue=env.get("STEPTRACE_TASK_QUEUE", "steptrace"),
            endpoints=endpoints,
            airtable_base=env.get("STEPTRACE_AIRTABLE_BASE", "Ops Tracker"),
            monday_board=env.get("STEPTRACE_MONDAY_BOARD", "Triage"),
            temporal_ui_url=env.get("STEPTRACE_TEMPORAL_UI_URL") or None,
            temporal_tls=_tls_from_env(env),
            temporal_api_key=_secret(env.get("STEPTRACE_TEMPORAL_API_KEY")),
            codec_keys=_secret(env.get("STEPTRACE_CODEC_KEYS")),
            codec_keys_file=env.get("STEPTRACE_CODEC_KEYS_FILE") or None,
            embedded=_flag(env.get("STEPTRACE_EMBEDDED"), default=True),
            redaction=redaction_from_env(env),
        )

    def missing_endpoints(self) -> list[Tool]:
        """Tools with no real endpoint configured: the sandbox serves these."""
        return [tool for tool in TOOLS if tool not in self.endpoints]

    def with_sandbox(self, urls: Mapping[Tool, str]) -> Settings:
        """These settings with the sandbox's URLs for every tool not configured."""
        filled = dict(self.endpoints)
        for tool in self.missing_endpoints():
            filled[tool] = ToolEndpoint(base_url=urls[tool], token=SecretStr(SANDBOX_TOKEN))
        return self.model_copy(update={"endpoints": filled})


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _tls_from_env(env: Mapping[str, str]) -> TemporalTls | None:
    """TLS when asked for, or when any TLS file or an API key is given (Cloud needs TLS)."""
    tls = TemporalTls(
        server_ca=env.get("STEPTRACE_TEMPORAL_TLS_CA") or None,
        client_cert=env.get("STEPTRACE_TEMPORAL_TLS_CERT") or None,
        client_key=env.get("STEPTRACE_TEMPORAL_TLS_KEY") or None,
        server_name=env.get("STEPTRACE_TEMPORAL_TLS_SERVER_NAME") or None,
    )
    wanted = _flag(env.get("STEPTRACE_TEMPORAL_TLS"), default=False)
    if wanted or tls != TemporalTls() or env.get("STEPTRACE_TEMPORAL_API_KEY"):
        return tls
    return None


class SettingsError(ValueError):
    """A ``STEPTRACE_*`` variable holds a value steptrace cannot use; the message says which."""


def redaction_from_env(env: Mapping[str, str]) -> RedactionPolicy:
    """The redaction policy: the defaults plus ``STEPTRACE_REDACT_KEYS`` / ``_PATHS`` / ``_PII``.

    ``STEPTRACE_REDACT_PII=email,phone`` treats e-mail addresses and phone numbers as
    secrets; ``STEPTRACE_PHONE_REGION`` (default ``US``) says how national numbers look.
    """
    pii: list[PiiKind] = []
    for kind in _csv(env.get("STEPTRACE_REDACT_PII", "")):
        if kind not in PII_KINDS:
            raise SettingsError(
                f"STEPTRACE_REDACT_PII: unknown kind {kind!r} (known: {', '.join(PII_KINDS)})"
            )
        pii.append(kind)
    return RedactionPolicy(
        keys=DEFAULT_SECRET_KEYS | frozenset(_csv(env.get("STEPTRACE_REDACT_KEYS", ""))),
        paths=tuple(_csv(env.get("STEPTRACE_REDACT_PATHS", ""))),
        pii=frozenset(pii),
        phone_region=env.get("STEPTRACE_PHONE_REGION", "US").upper(),
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
