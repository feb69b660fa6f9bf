"""The codec's keys: named AES-256 keys from the environment, and making a new one.

Keys come from ``STEPTRACE_CODEC_KEYS`` (``id=base64,id=base64``) or the file named by
``STEPTRACE_CODEC_KEYS_FILE`` (one ``id=base64`` per line, ``#`` comments); the first
key is the active one. ``steptrace codec-key`` prints a new one. Apart from the codec
(:mod:`orchestrator.runtime.codec`) so that handling keys loads no Temporal.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KEYS_ENV",
    "KEYS_FILE_ENV",
    "KEY_BYTES",
    "CodecKeyError",
    "Keyring",
    "new_key_entry",
]

KEY_BYTES = 32
KEYS_ENV = "STEPTRACE_CODEC_KEYS"
KEYS_FILE_ENV = "STEPTRACE_CODEC_KEYS_FILE"


class CodecKeyError(ValueError):
    """A key is malformed, missing, or does not open a payload."""


@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys; ``active`` encrypts, all of them decrypt."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CodecKeyError(f"the active codec key {self.active!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise CodecKeyError(
                    f"codec key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES} "
                    "(make one with `steptrace codec-key`)"
                )

    @classmethod
    def parse(cls, text: str, *, source: str) -> Keyring:
        """Keys from ``id=base64`` entries separated by commas or lines; the first is active.

        ``source`` names where the text came from, for the error message.
        """
        entries = [
            entry.strip()
            for line in text.splitlines()
            for entry in line.split("#", 1)[0].split(",")
            if entry.strip()
        ]
        if not entries:
            raise CodecKeyError(f"{source} holds no codec key (expected `id=base64`)")
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, sep, encoded = entry.partition("=")
            if not sep or not key_id.strip():
                raise CodecKeyError(
                    f"{source}: codec key entry {key_id.strip()[:12]!r}… is not `id=base64` "
                    "(make one with `steptrace codec-key`)"
                )
            keys[key_id.strip()] = _decode_key(key_id.strip(), encoded.strip(), source)
        first = entries[0].partition("=")[0].strip()
        return cls(keys=keys, active=first)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Keyring | None:
        """The keyring configured in the environment, or ``None`` when there is none."""
        env = os.environ if env is None else env
        text = env.get(KEYS_ENV, "").strip()
        if text:
            return cls.parse(text, source=KEYS_ENV)
        path = env.get(KEYS_FILE_ENV, "").strip()
        if path:
            try:
                content = Path(path).read_text()
            except OSError as exc:
                raise CodecKeyError(
                    f"{KEYS_FILE_ENV}={path}: cannot read the codec key file ({exc.strerror})"
                ) from exc
            return cls.parse(content, source=path)
        return None


def _decode_key(key_id: str, encoded: str, source: str) -> bytes:
    try:
        # Standard or URL-safe alphabet: both are what key tools print.
        return base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CodecKeyError(
            f"{source}: codec key {key_id!r} is not base64 (make one with `steptrace codec-key`)"
        ) from exc


def new_key_entry(key_id: str) -> str:
    """A fresh ``id=base64`` entry with 32 random bytes."""
    return f"{key_id}={base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"
