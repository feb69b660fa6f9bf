"""The wheel says its license the way current packaging does: an SPDX expression and the
license text (PEP 639), built by the declared backend in an isolated environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def source_copy(into: Path) -> Path:
    """The checkout's files (tracked and new, as they are now) without build leftovers:
    setuptools builds in the source folder, and a stale ``build/`` would leak into the
    wheel, so the wheel is built from a copy."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def test_the_wheel_carries_the_spdx_license_and_its_text(tmp_path: Path) -> None:
    source = source_copy(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
    )
    [wheel] = wheels.glob("steptrace-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(archive.read(metadata).decode(), headersonly=True)
        [license_file] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        text = archive.read(license_file).decode()
    assert headers["License-Expression"] == "Apache-2.0"
    assert headers.get_all("License-File") == ["LICENSE"]
    assert "License" not in headers, "the legacy free-text field next to the expression"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
