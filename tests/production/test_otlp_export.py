"""OTLP/HTTP export configured only by the standard ``OTEL_*`` variables, and JSON log
lines with the run and step ids: ``steptrace run`` as a user runs it, against a local
OTLP/HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.step_observer import STEP_SPAN
from tests.production.servers import serve_app

ROOT = Path(__file__).resolve().parents[2]


def receiver(requests: list[ExportTraceServiceRequest]) -> Starlette:
    async def traces(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        requests.append(message)
        return Response(b"", media_type="application/x-protobuf")

    return Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])


async def test_steptrace_run_exports_spans_over_otlp_http_and_logs_json(
    dev_server: DevServer, tmp_path: Path
) -> None:
    received: list[ExportTraceServiceRequest] = []
    async with serve_app(receiver(received)) as endpoint:
        env = os.environ | {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_SERVICE_NAME": "steptrace-test",
            "STEPTRACE_TEMPORAL_ADDRESS": dev_server.address,
            "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}",
            "STEPTRACE_LOG_FORMAT": "json",
            "STEPTRACE_LOG_LEVEL": "DEBUG",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "orchestrator.cli.app",
            "run",
            str(ROOT / "pipelines" / "linear-triage-sync.yaml"),
            "--trigger",
            '{"issue": "ENG-101"}',
            "--json",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()[-2000:]
    run_id = json.loads(stdout)["run_id"]

    spans = [
        (resource.resource, span)
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    steps = [span for _, span in spans if span.name == STEP_SPAN]
    assert steps, f"no {STEP_SPAN} span exported ({len(spans)} spans)"
    attributes = {a.key: a.value.string_value for a in steps[0].attributes}
    assert attributes["steptrace.run_id"] == run_id
    services = {
        a.value.string_value
        for resource, _ in spans
        for a in resource.attributes
        if a.key == "service.name"
    }
    assert services == {"steptrace-test"}

    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    step_lines = [line for line in lines if line.get("step_id") == "fetch_issue"]
    assert step_lines, "no JSON log line carries the step id"
    assert step_lines[0]["run_id"] == run_id and step_lines[0]["level"] == "DEBUG"
