"""Where steptrace finds its parts: one config file and ``STEPTRACE_*`` environment variables.

Read with pydantic-settings (:class:`EnvSettings`): the environment wins over the file
named by ``STEPTRACE_CONFIG`` (default ``steptrace.toml`` in the working directory, when
it exists), whose keys are the variables' names without the prefix, in lower case
(``linear_token = "lin_api_…"``). docs/configuration.md lists every key.

Nothing set means the embedded default (DESIGN §2): a Temporal dev server started by
steptrace, the SQLite trace store under ``.steptrace/``, and the sandbox emulators for
the four tools. A tool's token alone means that tool's **real** API at its public URL;
a URL alone is a configuration error (:class:`ConfigError`), never a silent sandbox.

Read from the environment only (not the file, so that secrets and keys stay out of it):
the Temporal connection (docs/deploy.md) — ``STEPTRACE_TEMPORAL_TLS=1`` and optionally
``STEPTRACE_TEMPORAL_TLS_CA`` (server CA file), ``STEPTRACE_TEMPORAL_TLS_CERT`` and
``STEPTRACE_TEMPORAL_TLS_KEY`` (client certificate and key files, mTLS),
``STEPTRACE_TEMPORAL_TLS_SERVER_NAME``, ``STEPTRACE_TEMPORAL_API_KEY`` (Temporal Cloud;
implies TLS); payload encryption keys (``STEPTRACE_CODEC_KEYS`` or
``STEPTRACE_CODEC_KEYS_FILE``, :mod:`orchestrator.runtime.codec`);
``STEPTRACE_EMBEDDED=0`` (the production image), which forbids starting the dev server or
the sandbox; and the redaction policy (``STEPTRACE_REDACT_KEYS``, ``_PATHS``, ``_PII``,
``STEPTRACE_PHONE_REGION``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from orchestrator.config.errors import ConfigError as ConfigError
from orchestrator.config.redaction import redaction_from_env as redaction_from_env
from tracer.redaction import RedactionPolicy

Tool = Literal["linear", "airtable", "monday", "slack"]
TOOLS: tuple[Tool, ...] = get_args(Tool)
SANDBOX_TOKEN = "sandbox-token"
CONFIG_FILE_ENV = "STEPTRACE_CONFIG"
DEFAULT_CONFIG_FILE = "steptrace.toml"

REAL_URLS: dict[Tool, str] = {
    "linear": "https://api.linear.app",
    "airtable": "https://api.airtable.com",
    "monday": "https://api.monday.com",
    "slack": "https://slack.com/api/",
}
"""Each tool's public API root, used when only its token is set."""


class TemporalTls(BaseModel):
    """TLS to the Temporal frontend; file paths, read when connecting."""

    model_config = ConfigDict(frozen=True)

    server_ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    server_name: str | None = None


class ToolEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    base_url: str
    token: SecretStr
    sandbox: bool = False


class EnvSettings(BaseSettings):
    """The raw keys, as the file and the environment give them (all optional)."""

    model_config = SettingsConfigDict(env_prefix="STEPTRACE_", extra="ignore")

    database_url: str | None = None
    temporal_address: str | None = None
    namespace: str = "default"
    task_queue: str = "steptrace"
    temporal_ui_url: str | None = None
    console_url: str | None = None
    airtable_base: str = "Ops Tracker"
    monday_board: str = "Triage"
    linear_url: str | None = None
    linear_token: SecretStr | None = None
    airtable_url: str | None = None
    airtable_token: SecretStr | None = None
    monday_url: str | None = None
    monday_token: SecretStr | None = None
    slack_url: str | None = None
    slack_token: SecretStr | None = None
    pipelines_dir: str = "pipelines"
    alerts: bool = True
    alert_channel: str = "#ops-alerts"
    alert_ack_timeout: str = "4h"
    digest_channel: str = ""
    digest_cron: str = "0 9 * * 1"
    digest_timezone: str = "UTC"
    listen: str = "127.0.0.1:8787"
    console_listen: str = "127.0.0.1:8765"
    linear_webhook_secret: SecretStr | None = None
    airtable_webhook_secret: SecretStr | None = None
    monday_signing_secret: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get(CONFIG_FILE_ENV)
        path = Path(named or DEFAULT_CONFIG_FILE)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if named and not path.is_file():
            raise ConfigError(
                f"{CONFIG_FILE_ENV}={named!r} is not a file: create it, or unset "
                f"{CONFIG_FILE_ENV} to read only the environment"
            )
        if path.is_file():
            sources.append(_toml_source(settings_cls, path))
        return tuple(sources)


def _toml_source(settings_cls: type[BaseSettings], path: Path) -> PydanticBaseSettingsSource:
    """The config file, or a :class:`ConfigError` naming it and what is wrong."""
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    except tomllib.TOMLDecodeError as exc:
        problem = f"is not valid TOML ({exc})"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror})"
    raise ConfigError(
        f"config file {path} {problem}: fix it, or point {CONFIG_FILE_ENV} at another file"
    )


class _Mapping(PydanticBaseSettingsSource):
    """An explicit environment (tests, scenarios): nothing else is read."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = f"STEPTRACE_{field_name.upper()}"
        return self._env.get(key) or None, key, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                found[name] = value
        return found


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
    console_url: str | None = None  # where people reach the console: alerts link there
    pipelines_dir: str = "pipelines"
    alerts: bool = True
    alert_channel: str = "#ops-alerts"
    alert_ack_timeout: str = "4h"
    digest_channel: str = ""
    """Where the weekly insights digest goes (empty: the alert channel)."""
    digest_cron: str = "0 9 * * 1"
    digest_timezone: str = "UTC"
    listen: str = "127.0.0.1:8787"
    """The webhook receiver (and ``/healthz``, ``/readyz``, the Slack bot) of the service."""
    console_listen: str = "127.0.0.1:8765"
    """The web console of the service (served when ``STEPTRACE_CONSOLE_SECRET`` is set)."""
    webhook_secrets: dict[str, SecretStr] = {}
    temporal_tls: TemporalTls | None = None
    temporal_api_key: SecretStr | None = None
    codec_keys: SecretStr | None = None
    codec_keys_file: str | None = None
    embedded: bool = True
    redaction: RedactionPolicy = RedactionPolicy()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment (and the config file), or from ``env`` alone.

        Raises :class:`ConfigError` naming the key when a value cannot work."""
        try:
            raw = EnvSettings() if env is None else _from_mapping(env)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = "STEPTRACE_" + "_".join(str(p) for p in first["loc"]).upper()
            raise ConfigError(f"{key}: {first['msg']}") from exc
        source = os.environ if env is None else env
        return cls(
            database_url=raw.database_url or None,
            temporal_address=raw.temporal_address or None,
            task_queue=raw.task_queue,
            endpoints=_endpoints(raw),
            airtable_base=raw.airtable_base,
            monday_board=raw.monday_board,
            temporal_ui_url=raw.temporal_ui_url or None,
            console_url=raw.console_url or None,
            pipelines_dir=raw.pipelines_dir,
            alerts=raw.alerts,
            alert_channel=raw.alert_channel,
            alert_ack_timeout=raw.alert_ack_timeout,
            digest_channel=raw.digest_channel,
            digest_cron=raw.digest_cron,
            digest_timezone=raw.digest_timezone,
            listen=raw.listen,
            console_listen=raw.console_listen,
            webhook_secrets={
                tool: secret
                for tool, secret in (
                    ("linear", raw.linear_webhook_secret),
                    ("airtable", raw.airtable_webhook_secret),
                    ("monday", raw.monday_signing_secret),
                )
                if secret is not None and secret.get_secret_value()
            },
            namespace=source.get("STEPTRACE_TEMPORAL_NAMESPACE") or raw.namespace,
            temporal_tls=_tls_from_env(source),
            temporal_api_key=_secret(source.get("STEPTRACE_TEMPORAL_API_KEY")),
            codec_keys=_secret(source.get("STEPTRACE_CODEC_KEYS")),
            codec_keys_file=source.get("STEPTRACE_CODEC_KEYS_FILE") or None,
            embedded=_flag(source.get("STEPTRACE_EMBEDDED"), default=True),
            redaction=redaction_from_env(source),
        )

    def missing_endpoints(self) -> list[Tool]:
        """Tools with no real endpoint configured: the sandbox serves these."""
        return [tool for tool in TOOLS if tool not in self.endpoints]

    def with_sandbox(self, urls: Mapping[Tool, str]) -> Settings:
        """These settings with the sandbox's URLs for every tool not configured."""
        filled = dict(self.endpoints)
        for tool in self.missing_endpoints():
            filled[tool] = ToolEndpoint(
                base_url=urls[tool], token=SecretStr(SANDBOX_TOKEN), sandbox=True
            )
        return self.model_copy(update={"endpoints": filled})

    def default_escalation(self) -> dict[str, Any] | None:
        """The escalation of a spec without one: one tier, the alert channel (or none)."""
        if not self.alerts or "slack" not in self.endpoints:
            return None
        return {
            "tiers": [
                {"automatic": True},
                {
                    "name": "on call",
                    "notify": [self.alert_channel],
                    "ack_timeout": self.alert_ack_timeout,
                },
            ]
        }


def _from_mapping(env: Mapping[str, str]) -> EnvSettings:
    class _Explicit(EnvSettings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, _Mapping(settings_cls, env))

    return _Explicit()


def _endpoints(raw: EnvSettings) -> dict[Tool, ToolEndpoint]:
    endpoints: dict[Tool, ToolEndpoint] = {}
    for tool in TOOLS:
        url: str | None = getattr(raw, f"{tool}_url")
        token: SecretStr | None = getattr(raw, f"{tool}_token")
        if token is not None and token.get_secret_value():
            endpoints[tool] = ToolEndpoint(base_url=url or REAL_URLS[tool], token=token)
        elif url:
            name = f"STEPTRACE_{tool.upper()}"
            raise ConfigError(
                f"{name}_URL is set but {name}_TOKEN is not: set the token too (the sandbox "
                f"takes {SANDBOX_TOKEN!r}), or unset the URL to use the sandbox"
            )
    return endpoints


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
