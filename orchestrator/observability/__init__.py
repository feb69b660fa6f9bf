"""Observability: OpenTelemetry spans, Prometheus metrics, JSON logs, health endpoints."""
