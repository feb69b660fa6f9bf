"""One way to reach Temporal: every client steptrace makes comes from :func:`connect`.

So every client (and every worker built on one) gets the same namespace, TLS, API key,
payload codec (:mod:`orchestrator.runtime.codec`) and, when OpenTelemetry is
configured, Temporal's tracing interceptor (:mod:`orchestrator.observability.otel`).
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.service import TLSConfig

from orchestrator.config.settings import Settings, TemporalTls
from orchestrator.observability.otel import temporal_interceptors
from orchestrator.runtime.codec import Keyring, data_converter


class ConnectionConfigError(ValueError):
    """The Temporal connection settings cannot be used as given."""


def keyring(settings: Settings) -> Keyring | None:
    """The codec keyring the settings name, or ``None`` (history stays plain)."""
    env: dict[str, str] = {}
    if settings.codec_keys is not None:
        env["STEPTRACE_CODEC_KEYS"] = settings.codec_keys.get_secret_value()
    if settings.codec_keys_file:
        env["STEPTRACE_CODEC_KEYS_FILE"] = settings.codec_keys_file
    return Keyring.from_env(env)


def converter(settings: Settings) -> DataConverter:
    """The data converter every client and worker of these settings must share."""
    return data_converter(keyring(settings))


def tls_config(settings: Settings) -> TLSConfig | bool:
    """The SDK's TLS option: ``False`` for plain TCP, else the files, read now."""
    tls = settings.temporal_tls
    if tls is None:
        return False
    if bool(tls.client_cert) != bool(tls.client_key):
        raise ConnectionConfigError(
            "STEPTRACE_TEMPORAL_TLS_CERT and STEPTRACE_TEMPORAL_TLS_KEY go together "
            "(mTLS needs the client certificate and its key); set both or neither"
        )
    return TLSConfig(
        server_root_ca_cert=_read(tls, "server_ca", "STEPTRACE_TEMPORAL_TLS_CA"),
        client_cert=_read(tls, "client_cert", "STEPTRACE_TEMPORAL_TLS_CERT"),
        client_private_key=_read(tls, "client_key", "STEPTRACE_TEMPORAL_TLS_KEY"),
        domain=tls.server_name,
    )


def _read(tls: TemporalTls, field: str, env_name: str) -> bytes | None:
    path = getattr(tls, field)
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConnectionConfigError(
            f"{env_name}={path}: cannot read the file ({exc.strerror})"
        ) from exc


async def connect(
    settings: Settings,
    address: str | None = None,
    *,
    interceptors: list[Interceptor] | None = None,
) -> Client:
    """A client for ``address`` (default: the settings' Temporal address)."""
    target = address or settings.temporal_address
    if not target:
        raise ConnectionConfigError(
            "no Temporal address: set STEPTRACE_TEMPORAL_ADDRESS (host:port of the frontend)"
        )
    api_key = settings.temporal_api_key
    return await Client.connect(
        target,
        namespace=settings.namespace,
        data_converter=converter(settings),
        tls=tls_config(settings),
        api_key=api_key.get_secret_value() if api_key is not None else None,
        interceptors=[*temporal_interceptors(), *(interceptors or [])],
    )
