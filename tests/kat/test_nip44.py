"""NIP-44 v2: every case of the official vector file, valid and invalid (one item each).

Source: ``../shared/nip44-vectors/nip44.vectors.json`` (paulmillr/nip44, see its README).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from nostr import nip44
from nostr.errors import DecryptionError, InvalidKey, UsageError
from nostr.keys import PublicKey, SecretKey
from tests.vectors import load_json

pytestmark = pytest.mark.vectors

V2: dict[str, Any] = load_json("nip44-vectors/nip44.vectors.json")["v2"]
VALID: dict[str, Any] = V2["valid"]
INVALID: dict[str, Any] = V2["invalid"]
MESSAGE_KEYS: dict[str, Any] = VALID["get_message_keys"]


def _ids(prefix: str, cases: list[Any]) -> list[str]:
    return [f"{prefix}-{i}" for i in range(len(cases))]


@pytest.mark.parametrize(
    "case", VALID["get_conversation_key"], ids=_ids("conv", VALID["get_conversation_key"])
)
def test_conversation_key(case: dict[str, str]) -> None:
    key = nip44.conversation_key(SecretKey.from_hex(case["sec1"]), PublicKey.from_hex(case["pub2"]))
    assert key.hex() == case["conversation_key"]


@pytest.mark.parametrize("case", MESSAGE_KEYS["keys"], ids=_ids("keys", MESSAGE_KEYS["keys"]))
def test_message_keys(case: dict[str, str]) -> None:
    conversation = bytes.fromhex(MESSAGE_KEYS["conversation_key"])
    keys = nip44.message_keys(conversation, bytes.fromhex(case["nonce"]))
    assert keys.chacha_key.hex() == case["chacha_key"]
    assert keys.chacha_nonce.hex() == case["chacha_nonce"]
    assert keys.hmac_key.hex() == case["hmac_key"]


@pytest.mark.parametrize(
    ("unpadded", "padded"), VALID["calc_padded_len"], ids=_ids("pad", VALID["calc_padded_len"])
)
def test_calc_padded_len(unpadded: int, padded: int) -> None:
    assert nip44.calc_padded_len(unpadded) == padded


@pytest.mark.parametrize(
    "case", VALID["encrypt_decrypt"], ids=_ids("encdec", VALID["encrypt_decrypt"])
)
def test_encrypt_decrypt(case: dict[str, str]) -> None:
    sec1, sec2 = SecretKey.from_hex(case["sec1"]), SecretKey.from_hex(case["sec2"])
    conversation = nip44.conversation_key(sec1, sec2.public_key())
    assert conversation.hex() == case["conversation_key"]
    assert nip44.conversation_key(sec2, sec1.public_key()) == conversation
    payload = nip44.encrypt_with_nonce(
        case["plaintext"], conversation, bytes.fromhex(case["nonce"])
    )
    assert payload == case["payload"]
    assert nip44.decrypt(case["payload"], conversation) == case["plaintext"]


@pytest.mark.parametrize(
    "case", VALID["encrypt_decrypt_long_msg"], ids=_ids("long", VALID["encrypt_decrypt_long_msg"])
)
def test_encrypt_decrypt_long_message(case: dict[str, Any]) -> None:
    plaintext = case["pattern"] * case["repeat"]
    assert hashlib.sha256(plaintext.encode()).hexdigest() == case["plaintext_sha256"]
    conversation = bytes.fromhex(case["conversation_key"])
    payload = nip44.encrypt_with_nonce(plaintext, conversation, bytes.fromhex(case["nonce"]))
    assert hashlib.sha256(payload.encode()).hexdigest() == case["payload_sha256"]
    assert nip44.decrypt(payload, conversation) == plaintext


@pytest.mark.parametrize(
    "length", INVALID["encrypt_msg_lengths"], ids=_ids("len", INVALID["encrypt_msg_lengths"])
)
def test_encrypt_refuses_length(length: int) -> None:
    with pytest.raises(UsageError):
        nip44.encrypt_with_nonce("a" * length, bytes(32), bytes(32))


@pytest.mark.parametrize(
    "case", INVALID["get_conversation_key"], ids=_ids("badconv", INVALID["get_conversation_key"])
)
def test_conversation_key_refuses(case: dict[str, str]) -> None:
    with pytest.raises(InvalidKey):
        nip44.conversation_key(SecretKey.from_hex(case["sec1"]), PublicKey.from_hex(case["pub2"]))


@pytest.mark.parametrize("case", INVALID["decrypt"], ids=_ids("baddec", INVALID["decrypt"]))
def test_decrypt_refuses(case: dict[str, str]) -> None:
    with pytest.raises(DecryptionError):
        nip44.decrypt(case["payload"], bytes.fromhex(case["conversation_key"]))
