"""Encrypted workflow history: an AES-256-GCM payload codec with key rotation.

Temporal stores every workflow input, activity result and failure it is handed. With
this codec on the client and every worker, what it is handed is ciphertext: each
payload is serialized, encrypted with the *active* key, and tagged with that key's id
in its metadata, so a payload written under an older key still decodes after a
rotation as long as the old key stays in the ring.

Keys come from ``STEPTRACE_CODEC_KEYS`` or ``STEPTRACE_CODEC_KEYS_FILE``
(:mod:`orchestrator.runtime.codec_keys`); the first key is the active one.

A process that meets a payload under a key it does not hold raises
:class:`CodecKeyError` naming the key id: it never falls back to plaintext. Payloads
with no encryption tag (history written before the codec was turned on) decode as
they are.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from orchestrator.runtime.codec_keys import (
    KEY_BYTES,
    KEYS_ENV,
    KEYS_FILE_ENV,
    CodecKeyError,
    Keyring,
    new_key_entry,
)

__all__ = [
    "ENCODING",
    "KEYS_ENV",
    "KEYS_FILE_ENV",
    "KEY_BYTES",
    "KEY_ID_METADATA",
    "NONCE_BYTES",
    "AesGcmCodec",
    "CodecKeyError",
    "Keyring",
    "data_converter",
    "new_key_entry",
]

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


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
