"""Encrypted workflow history: an AES-256-GCM payload codec with key rotation.

Temporal stores every workflow input, activity result and failure it is handed. With
this codec on the client and every worker, what it is handed is ciphertext: each
payload is serialized, encrypted with the *active* key, and tagged with that key's id
in its metadata, so a payload written under an older key still decodes after a
rotation as long as the old key stays in the ring.

Keys come from ``STEPTRACE_CODEC_KEYS`` (``id=base64,id=base64``) or the file named by
``STEPTRACE_CODEC_KEYS_FILE`` (one ``id=base64`` per line, ``#`` comments); the first
key is the active one. ``steptrace codec-key`` prints a new one.

A process that meets a payload under a key it does not hold raises
:class:`CodecKeyError` naming the key id: it never falls back to plaintext. Payloads
with no encryption tag (history written before the codec was turned on) decode as
they are.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
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


class AesGcmCodec(PayloadCodec):
    """Encrypts every payload with the keyring's active key; decrypts with any of its keys."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._keyring.active
        nonce = secrets.token_bytes(NONCE_BYTES)
        # The key id is authenticated too: a payload cannot be relabelled to another key.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecKeyError(
                f"payload encrypted with codec key {key_id!r}, which this process does not "
                f"hold (it holds {sorted(self._ciphers)}): add that key to {KEYS_ENV} or "
                f"{KEYS_FILE_ENV}"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag as exc:
            raise CodecKeyError(
                f"payload under codec key {key_id!r} does not decrypt with the key of that "
                "id this process holds: the key was changed without a new id, or the "
                "payload was altered"
            ) from exc
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def data_converter(keyring: Keyring | None) -> DataConverter:
    """steptrace's converter: pydantic, plus the codec and encoded failure messages when
    a keyring is configured (a failure's message could quote a secret)."""
    if keyring is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
