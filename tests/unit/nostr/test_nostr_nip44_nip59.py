from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from nostr import nip44, nip59
from nostr.errors import DecodeError, DecryptionError, InvalidEvent, UsageError
from nostr.event import Event, UnsignedEvent, expiration_tag
from nostr.kinds import Kind
from tests.helpers.nostr_factories import NOW, CountingRng, make_event, secret

ALICE, BOB, EVE = secret("alice"), secret("bob"), secret("eve")


def _conversation() -> bytes:
    return nip44.conversation_key(ALICE, BOB.public_key())


def test_nip44_round_trip_and_randomised_nonce() -> None:
    key = _conversation()
    first = nip44.encrypt("hello 🦄", key, rng=CountingRng("1"))
    second = nip44.encrypt("hello 🦄", key, rng=CountingRng("2"))
    assert first != second
    assert nip44.decrypt(first, key) == nip44.decrypt(second, key) == "hello 🦄"
    assert nip44.decrypt(first, nip44.conversation_key(BOB, ALICE.public_key())) == "hello 🦄"


def test_nip44_refuses_tampering_and_other_keys() -> None:
    key = _conversation()
    payload = nip44.encrypt("secret", key, rng=CountingRng())
    data = bytearray(base64.b64decode(payload))
    data[40] ^= 1
    with pytest.raises(DecryptionError, match="MAC"):
        nip44.decrypt(base64.b64encode(bytes(data)).decode(), key)
    with pytest.raises(DecryptionError):
        nip44.decrypt(payload, nip44.conversation_key(EVE, BOB.public_key()))


def test_nip44_refuses_non_canonical_base64() -> None:
    key = _conversation()
    payload = nip44.encrypt("x" * 33, key, rng=CountingRng())  # 131 bytes: one "=" of padding
    assert payload.endswith("=")
    # Flip unused low bits of the last data character: decodes to the same bytes.
    last = payload.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    tweaked = alphabet[alphabet.index(last) | 1]
    if tweaked == last:
        tweaked = alphabet[alphabet.index(last) & ~1]
    stripped = payload.rstrip("=")
    padding = payload[len(stripped) :]
    bad = stripped[:-1] + tweaked + padding
    assert base64.b64decode(bad) == base64.b64decode(payload)
    with pytest.raises(DecryptionError, match="canonical"):
        nip44.decrypt(bad, key)
    with pytest.raises(DecryptionError):
        nip44.decrypt("é" * 200, key)


def test_nip44_rejects_bad_key_and_nonce_sizes() -> None:
    with pytest.raises(UsageError):
        nip44.encrypt_with_nonce("x", bytes(31), bytes(32))
    with pytest.raises(UsageError):
        nip44.encrypt_with_nonce("x", bytes(32), bytes(12))
    keys = nip44.message_keys(bytes(32), bytes(32))
    assert keys.chacha_key.hex() not in repr(keys)


def _rumor(content: str = "hi", author: str = "alice") -> UnsignedEvent:
    return UnsignedEvent.create(secret(author).public_key(), NOW, 444, content, [["e", "0" * 64]])


def test_gift_wrap_round_trip() -> None:
    rumor = _rumor()
    wrap = nip59.gift_wrap(
        rumor, ALICE, BOB.public_key(), now=NOW, rng=CountingRng(), extra_tags=[expiration_tag(9)]
    )
    wrap.verify()
    assert wrap.kind == Kind.GIFT_WRAP
    assert wrap.tags == (("expiration", "9"), ("p", BOB.public_key().hex))
    assert wrap.pubkey not in (ALICE.public_key().hex, BOB.public_key().hex)
    opened = nip59.unwrap(wrap, BOB)
    assert opened.rumor == rumor
    assert opened.sender == ALICE.public_key()
    assert opened.seal.kind == Kind.SEAL
    assert opened.seal.tags == ()
    with pytest.raises(DecryptionError):
        nip59.unwrap(wrap, EVE)


def test_gift_wrap_timestamps_are_randomised_into_the_past() -> None:
    rng = CountingRng("times")
    stamps = set()
    for _ in range(40):
        wrap = nip59.gift_wrap(_rumor(), ALICE, BOB.public_key(), now=NOW, rng=rng)
        seal = nip59.unwrap(wrap, BOB).seal
        for stamp in (wrap.created_at, seal.created_at):
            assert NOW - nip59.TIMESTAMP_TWEAK < stamp <= NOW
            stamps.add(stamp)
    assert len(stamps) > 70  # practically all distinct


def test_seal_must_be_by_the_rumor_author() -> None:
    with pytest.raises(UsageError):
        nip59.seal(_rumor(author="eve"), ALICE, BOB.public_key(), now=NOW, rng=CountingRng())


def _forged_wrap(seal: Event) -> Event:
    return nip59.wrap_seal(seal, BOB.public_key(), now=NOW, rng=CountingRng("w"))


def test_unwrap_refuses_a_seal_speaking_for_someone_else() -> None:
    # Eve seals a rumor that claims Alice wrote it.
    rumor = _rumor()
    content = nip44.encrypt(
        rumor.to_json(), nip44.conversation_key(EVE, BOB.public_key()), rng=CountingRng()
    )
    seal = UnsignedEvent.create(EVE.public_key(), NOW, Kind.SEAL, content).sign(EVE)
    with pytest.raises(DecryptionError, match="author"):
        nip59.unwrap(_forged_wrap(seal), BOB)


def test_unwrap_refuses_a_non_seal_and_tampered_layers() -> None:
    inner = make_event("alice", kind=1, content="x")
    with pytest.raises(DecryptionError, match="not a seal"):
        nip59.unwrap(_forged_wrap(inner), BOB)
    good = nip59.seal(_rumor(), ALICE, BOB.public_key(), now=NOW, rng=CountingRng())
    with pytest.raises(InvalidEvent):
        nip59.unwrap(_forged_wrap(replace(good, created_at=good.created_at + 1)), BOB)
    wrap = _forged_wrap(good)
    with pytest.raises(InvalidEvent):
        nip59.unwrap(replace(wrap, content=wrap.content[:-4] + "AAA="), BOB)
    with pytest.raises(DecryptionError, match="not a gift wrap"):
        nip59.unwrap(make_event(kind=1), BOB)


def test_unwrap_refuses_garbage_inside_valid_layers() -> None:
    content = nip44.encrypt(
        json.dumps({"not": "an event"}), nip44.conversation_key(ALICE, BOB.public_key())
    )
    seal = UnsignedEvent.create(ALICE.public_key(), NOW, Kind.SEAL, content).sign(ALICE)
    with pytest.raises(DecodeError):
        nip59.unwrap(_forged_wrap(seal), BOB)
