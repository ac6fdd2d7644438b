"""MIP-03 kind 445 envelopes and inner rumors (marmot.md sections 5.1 to 5.4 and 5.8)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from marmot.errors import InvalidGroupEvent, InvalidRumor, UsageError
from marmot.group_event import (
    build_group_event,
    check_group_event,
    encode_rumor,
    encrypt_content_with_nonce,
    parse_rumor,
    trial_decrypt,
)
from nostr.event import Event, UnsignedEvent
from tests.helpers.nostr_factories import NOW, CountingRng, secret

GID = bytes(range(32))
KEY = b"\x42" * 32
MLS = b"\x00\x01\x00\x02 an MLS PrivateMessage"
ALICE = secret("alice")


def test_envelope_layout() -> None:
    event = build_group_event(GID, MLS, KEY, now=NOW, rng=CountingRng())
    assert event.kind == 445
    assert event.created_at == NOW
    assert event.tags == (("h", GID.hex()), ("encoding", "base64"))
    payload = base64.b64decode(event.content)
    nonce, sealed = payload[:12], payload[12:]
    assert ChaCha20Poly1305(KEY).decrypt(nonce, sealed, b"") == MLS
    assert len(payload) == 12 + len(MLS) + 16
    event.verify()
    with_expiry = build_group_event(GID, MLS, KEY, now=NOW, expiration=NOW + 60)
    assert with_expiry.tags[-1] == ("expiration", str(NOW + 60))


def test_content_is_deterministic_given_the_nonce() -> None:
    content = encrypt_content_with_nonce(KEY, MLS, b"\x07" * 12)
    expected = b"\x07" * 12 + ChaCha20Poly1305(KEY).encrypt(b"\x07" * 12, MLS, b"")
    assert content == base64.b64encode(expected).decode()
    with pytest.raises(UsageError):
        encrypt_content_with_nonce(KEY[:16], MLS, b"\x07" * 12)


def test_every_event_has_a_fresh_signer() -> None:
    authors = {build_group_event(GID, MLS, KEY, now=NOW).pubkey for _ in range(5)}
    assert len(authors) == 5
    assert ALICE.public_key().hex not in authors


def test_check_accepts_the_valid_window() -> None:
    for created_at in (NOW - 3_888_000, NOW, NOW + 300):
        event = build_group_event(GID, MLS, KEY, now=created_at)
        assert check_group_event(event, now=NOW) == GID


def _event(
    tags: list[list[str]], *, kind: int = 445, created_at: int = NOW, content: str | None = None
) -> Event:
    key = secret("one time")
    body = encrypt_content_with_nonce(KEY, MLS, b"\x01" * 12) if content is None else content
    return UnsignedEvent.create(key.public_key(), created_at, kind, body, tags).sign(key)


H, ENC = ["h", GID.hex()], ["encoding", "base64"]
GOOD = _event([H, ENC])


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_event([H, ENC], kind=444), "not a group event"),
        (_event([H, ENC], created_at=NOW - 3_888_001), "too old"),
        (_event([H, ENC], created_at=NOW + 301), "future"),
        (_event([ENC]), "exactly one h"),
        (_event([H, H, ENC]), "exactly one h"),
        (_event([["h", GID.hex()[:-2]], ENC]), "exactly one h"),
        (_event([["h", "zz" * 32], ENC]), "exactly one h"),
        (_event([["h"], ENC]), "exactly one h"),
        (
            Event(GOOD.id, GOOD.pubkey, NOW, 445, GOOD.tags, GOOD.content, "00" * 64),
            "bad group event",
        ),
        (
            Event(GOOD.id, GOOD.pubkey, NOW, 445, GOOD.tags, GOOD.content + "x", GOOD.sig),
            "bad group event",
        ),
    ],
)
def test_envelope_rejections(event: Event, reason: str) -> None:
    with pytest.raises(InvalidGroupEvent, match=reason):
        check_group_event(event, now=NOW)


def test_the_encoding_tag_is_not_required_on_receipt() -> None:
    # MDK 0.8 trial-decrypts every 445 as ChaCha20-Poly1305 (its legacy NIP-44 reading,
    # the only use of the tag, closed on 2026-05-15); so do we.
    for tags in ([H], [H, ["encoding", "hex"]], [["expiration", str(NOW + 9)], H]):
        event = _event(tags)
        assert check_group_event(event, now=NOW) == GID
        assert trial_decrypt(event, [(3, KEY)]).mls_message == MLS


def test_tampered_signature_is_rejected() -> None:
    sig = GOOD.sig[:-1] + ("0" if GOOD.sig[-1] != "0" else "1")
    forged = Event(GOOD.id, GOOD.pubkey, NOW, 445, GOOD.tags, GOOD.content, sig)
    with pytest.raises(InvalidGroupEvent, match="signature"):
        check_group_event(forged, now=NOW)


def test_trial_decryption_uses_the_first_key_that_opens() -> None:
    keys = [(9, b"\x01" * 32), (8, b"\x02" * 32), (7, KEY), (6, b"\x03" * 32)]
    found = trial_decrypt(GOOD, keys)
    assert (found.epoch, found.mls_message) == (7, MLS)
    with pytest.raises(InvalidGroupEvent, match="no epoch key"):
        trial_decrypt(GOOD, keys[:2])


@pytest.mark.parametrize(
    ("content", "reason"),
    [("%%%", "not base64"), (base64.b64encode(b"\x00" * 27).decode(), "too short")],
)
def test_bad_content_is_rejected(content: str, reason: str) -> None:
    with pytest.raises(InvalidGroupEvent, match=reason):
        trial_decrypt(_event([H, ENC], content=content), [(0, KEY)])


# --- inner rumors -------------------------------------------------------------------------

ALICE_ID = ALICE.public_key().data


def _chat(kind: int = 9, tags: list[list[str]] | None = None) -> UnsignedEvent:
    return UnsignedEvent.create(ALICE.public_key(), NOW, kind, "hi 🦄", tags or [])


def test_rumor_round_trip() -> None:
    for rumor in (_chat(), _chat(7, [["e", "ab" * 32]]), _chat(5, [["e", "ab" * 32]])):
        assert parse_rumor(encode_rumor(rumor), ALICE_ID) == rumor
    data = json.loads(encode_rumor(_chat()))
    assert list(data) == ["id", "pubkey", "created_at", "kind", "tags", "content"]


def _json(**changes: object) -> bytes:
    data = _chat().to_dict()
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


@pytest.mark.parametrize(
    ("plaintext", "identity", "reason"),
    [
        (b"not json", ALICE_ID, "not JSON"),
        (b"[1]", ALICE_ID, "object"),
        (_json(id=None), ALICE_ID, "no id"),
        (_json(id="00" * 32), ALICE_ID, "does not match"),
        (_json(sig="00" * 64), ALICE_ID, "signed"),
        (_json(kind="9"), ALICE_ID, "kind"),
        (encode_rumor(_chat()), secret("bob").public_key().data, "not the MLS sender"),
        (encode_rumor(_chat(7)), ALICE_ID, "e tag"),
        (encode_rumor(_chat(5)), ALICE_ID, "e tag"),
    ],
)
def test_rumor_rejections(plaintext: bytes, identity: bytes, reason: str) -> None:
    with pytest.raises(InvalidRumor, match=reason):
        parse_rumor(plaintext, identity)
