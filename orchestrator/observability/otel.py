"""OpenTelemetry tracing, configured by the standard ``OTEL_*`` variables.

The OTel packages are the optional extra ``otel`` (``pip install 'steptrace[otel]'``).
Without them, or without a tracer provider, nothing is traced and nothing fails.

:func:`configure_tracing` installs an SDK tracer provider exporting over OTLP/HTTP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set and
``OTEL_TRACES_EXPORTER`` is not ``none``; the exporter itself reads the other standard
variables (headers, timeout, compression) and the resource reads ``OTEL_SERVICE_NAME``
and ``OTEL_RESOURCE_ATTRIBUTES``. :func:`temporal_interceptors` adds Temporal's own
interceptor (workflow and activity spans, context carried in Temporal headers) whenever
a real tracer provider is installed — by :func:`configure_tracing` or by a test.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import Any

SERVICE_NAME_DEFAULT = "steptrace"
TRACER_NAME = "steptrace"


def otel_installed() -> bool:
    return importlib.util.find_spec("opentelemetry.sdk") is not None


def export_configured(env: Mapping[str, str]) -> bool:
    """Whether the standard variables ask for OTLP trace export."""
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(env: Mapping[str, str] | None = None) -> bool:
    """Install an OTLP/HTTP-exporting tracer provider if the environment asks for one.

    Returns whether tracing is now on. Asked for without the ``otel`` extra installed is
    an error naming the extra, not a silent no-op.
    """
    env = os.environ if env is None else env
    if not export_configured(env):
        return False
    if not otel_installed():
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry packages are not "
            "installed: `pip install 'steptrace[otel]'` (or unset the variable)"
        )
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", SERVICE_NAME_DEFAULT)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


def tracing_active() -> bool:
    """A real (SDK) tracer provider is installed globally."""
    if not otel_installed():
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    return isinstance(trace.get_tracer_provider(), TracerProvider)


def temporal_interceptors() -> list[Any]:
    """Temporal's OTel interceptor when tracing is active, else nothing."""
    if not tracing_active():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def shutdown_tracing() -> None:
    """Flush and stop the installed provider (spans still queued are exported)."""
    if not tracing_active():
        return
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
