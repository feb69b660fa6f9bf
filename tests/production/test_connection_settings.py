"""Temporal connection options from the environment: namespace, TLS files, API key."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from orchestrator.config.settings import Settings
from orchestrator.runtime.connection import ConnectionConfigError, connect, tls_config
from orchestrator.service.stack import EmbeddedDisabledError, StackOptions, open_stack


def test_nothing_set_is_plain_tcp_to_the_default_namespace() -> None:
    settings = Settings.from_env({})
    assert settings.temporal_tls is None and settings.temporal_api_key is None
    assert settings.namespace == "default" and settings.embedded
    assert tls_config(settings) is False


def test_mtls_files_are_read_when_connecting(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(f"-- {name} --".encode())
    settings = Settings.from_env(
        {
            "STEPTRACE_TEMPORAL_ADDRESS": "ops.a1b2c.tmprl.cloud:7233",
            "STEPTRACE_TEMPORAL_NAMESPACE": "ops.a1b2c",
            "STEPTRACE_TEMPORAL_TLS_CA": str(tmp_path / "ca.pem"),
            "STEPTRACE_TEMPORAL_TLS_CERT": str(tmp_path / "client.pem"),
            "STEPTRACE_TEMPORAL_TLS_KEY": str(tmp_path / "client.key"),
            "STEPTRACE_TEMPORAL_TLS_SERVER_NAME": "ops.a1b2c.tmprl.cloud",
        }
    )
    tls = tls_config(settings)
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == b"-- ca.pem --"
    assert tls.client_cert == b"-- client.pem --"
    assert tls.client_private_key == b"-- client.key --"
    assert tls.domain == "ops.a1b2c.tmprl.cloud"
    assert settings.namespace == "ops.a1b2c"


def test_an_api_key_turns_tls_on_and_stays_secret() -> None:
    settings = Settings.from_env({"STEPTRACE_TEMPORAL_API_KEY": "cloud-api-key-value"})
    assert isinstance(tls_config(settings), TLSConfig)
    assert "cloud-api-key-value" not in repr(settings)


def test_tls_alone_uses_the_system_roots() -> None:
    tls = tls_config(Settings.from_env({"STEPTRACE_TEMPORAL_TLS": "1"}))
    assert isinstance(tls, TLSConfig) and tls.server_root_ca_cert is None


def test_a_certificate_without_its_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_text("cert")
    settings = Settings.from_env({"STEPTRACE_TEMPORAL_TLS_CERT": str(tmp_path / "client.pem")})
    with pytest.raises(ConnectionConfigError, match="go together"):
        tls_config(settings)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    settings = Settings.from_env({"STEPTRACE_TEMPORAL_TLS_CA": str(missing)})
    with pytest.raises(ConnectionConfigError, match=f"STEPTRACE_TEMPORAL_TLS_CA={missing}"):
        tls_config(settings)


async def test_no_address_is_named() -> None:
    with pytest.raises(ConnectionConfigError, match="STEPTRACE_TEMPORAL_ADDRESS"):
        await connect(Settings())


async def test_production_mode_refuses_the_embedded_parts() -> None:
    settings = Settings.from_env({"STEPTRACE_EMBEDDED": "0"})
    with pytest.raises(EmbeddedDisabledError, match="no endpoint for linear, airtable"):
        async with open_stack(StackOptions(tracing=False), settings):
            pass
