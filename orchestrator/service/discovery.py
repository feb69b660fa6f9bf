"""How ``steptrace run`` (and ``runs``, ``schedules``) find a running service.

``steptrace serve`` / ``up`` write ``.steptrace/service.json`` (next to the default
store; ``STEPTRACE_SERVICE_FILE`` moves it) with the Temporal address, namespace, task
queue, store URL and receiver URL, and remove it on a clean exit. A reader trusts the file
only if its process is alive and ``/readyz`` answers 200, so a file left by a killed
service is ignored. Without a usable file, a configured ``STEPTRACE_TEMPORAL_ADDRESS``
counts as a running service when its task queue has pollers (a worker polled within the
last minute, as Temporal reports it).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

SERVICE_FILE_ENV = "STEPTRACE_SERVICE_FILE"
DEFAULT_SERVICE_FILE = Path(".steptrace") / "service.json"


@dataclass(frozen=True)
class ServiceInfo:
    pid: int
    temporal_address: str
    namespace: str
    task_queue: str
    database_url: str | None
    receiver_url: str
    fallback_escalation: dict[str, Any] | None = field(default=None)
    """The service's alert for specs without ``escalation:`` (runs submitted by the CLI
    alert the way the service's own do)."""


def service_file() -> Path:
    return Path(os.environ.get(SERVICE_FILE_ENV) or DEFAULT_SERVICE_FILE)


def write_service_file(info: ServiceInfo) -> Path:
    path = service_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(info), indent=2))
    temporary.replace(path)
    return path


def remove_service_file(pid: int) -> None:
    """Remove the file if it is still ours (another service may have started since)."""
    path = service_file()
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def find_service(timeout: float = 1.0) -> ServiceInfo | None:
    """The running service the file names, or ``None``."""
    try:
        info = ServiceInfo(**json.loads(service_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not _alive(info.pid):
        return None
    try:
        ready = httpx.get(f"{info.receiver_url}/readyz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return None
    return info if ready else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
