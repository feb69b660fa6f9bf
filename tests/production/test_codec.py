"""The payload codec on its own: round trip, rotation, wrong keys, key parsing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from orchestrator.runtime.codec import (
    ENCODING,
    KEY_ID_METADATA,
    AesGcmCodec,
    CodecKeyError,
    Keyring,
    data_converter,
    new_key_entry,
)

SECRET = "xoxb-1111-2222-PlantedCodecSecret"


def keyring(text: str) -> Keyring:
    return Keyring.parse(text, source="test")


def plain(value: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{value}"'.encode())


async def test_round_trip_hides_the_payload_and_tags_the_key() -> None:
    codec = AesGcmCodec(keyring(new_key_entry("k1")))
    [sealed] = await codec.encode([plain(SECRET)])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert SECRET.encode() not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain(SECRET)]


async def test_two_encodings_of_one_payload_differ() -> None:
    codec = AesGcmCodec(keyring(new_key_entry("k1")))
    first, second = await codec.encode([plain(SECRET), plain(SECRET)])
    assert first.data != second.data  # a fresh nonce each time


async def test_rotation_encrypts_with_the_new_key_and_still_opens_the_old() -> None:
    old_entry, new_entry = new_key_entry("2026-06"), new_key_entry("2026-12")
    [old_sealed] = await AesGcmCodec(keyring(old_entry)).encode([plain(SECRET)])
    rotated = AesGcmCodec(keyring(f"{new_entry},{old_entry}"))
    [new_sealed] = await rotated.encode([plain(SECRET)])
    assert new_sealed.metadata[KEY_ID_METADATA] == b"2026-12"
    assert await rotated.decode([old_sealed, new_sealed]) == [plain(SECRET), plain(SECRET)]


async def test_a_missing_key_is_named_and_nothing_is_returned_in_clear() -> None:
    [sealed] = await AesGcmCodec(keyring(new_key_entry("ka"))).encode([plain(SECRET)])
    other = AesGcmCodec(keyring(new_key_entry("kb")))
    with pytest.raises(CodecKeyError, match=r"codec key 'ka', which this process does not hold"):
        await other.decode([sealed])


async def test_a_changed_key_under_the_same_id_is_refused() -> None:
    [sealed] = await AesGcmCodec(keyring(new_key_entry("k1"))).encode([plain(SECRET)])
    with pytest.raises(CodecKeyError, match="does not decrypt"):
        await AesGcmCodec(keyring(new_key_entry("k1"))).decode([sealed])


async def test_a_relabelled_payload_is_refused() -> None:
    one, two = new_key_entry("k1"), new_key_entry("k2")
    both = AesGcmCodec(keyring(f"{one},{two}"))
    [sealed] = await both.encode([plain(SECRET)])
    sealed.metadata[KEY_ID_METADATA] = b"k2"  # the key id is authenticated data
    with pytest.raises(CodecKeyError):
        await both.decode([sealed])


async def test_unencrypted_history_still_decodes() -> None:
    codec = AesGcmCodec(keyring(new_key_entry("k1")))
    assert await codec.decode([plain("older history")]) == [plain("older history")]


async def test_failure_messages_are_encrypted_too() -> None:
    converter = data_converter(keyring(new_key_entry("k1")))
    failure = Failure()
    await converter.encode_failure(RuntimeError(f"token {SECRET} refused"), failure)
    assert SECRET.encode() not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert SECRET in str(decoded)


def test_keys_come_from_env_or_a_file(tmp_path: Path) -> None:
    entry = new_key_entry("k2")
    assert Keyring.from_env({}) is None
    assert Keyring.from_env({"STEPTRACE_CODEC_KEYS": entry}).active == "k2"  # type: ignore[union-attr]
    path = tmp_path / "keys"
    path.write_text(f"# newest first\n{entry}\n{new_key_entry('k1')}\n")
    ring = Keyring.from_env({"STEPTRACE_CODEC_KEYS_FILE": str(path)})
    assert ring is not None and ring.active == "k2" and set(ring.keys) == {"k1", "k2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no codec key"),
        ("k1", "is not `id=base64`"),
        ("k1=not base64!", "is not base64"),
        (f"k1={base64.b64encode(b'short').decode()}", "AES-256 needs 32"),
    ],
)
def test_bad_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(CodecKeyError, match=message):
        Keyring.parse(text, source="STEPTRACE_CODEC_KEYS")


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(CodecKeyError, match=f"STEPTRACE_CODEC_KEYS_FILE={missing}"):
        Keyring.from_env({"STEPTRACE_CODEC_KEYS_FILE": str(missing)})
