"""MIP-05 (mip05-v1): token encryption, token gossip rumors and notification triggers."""

from __future__ import annotations

import base64
import hashlib
import json

import nostr_sdk as sdk
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from marmot.errors import InvalidPushMessage, UsageError
from marmot.push import (
    ENCRYPTED_TOKEN_LEN,
    LeafTokenTag,
    Platform,
    PushToken,
    TokenList,
    TokenRemoval,
    TokenRequest,
    TokenTag,
    build_notification_batches,
    build_notification_request,
    build_token_list,
    build_token_removal,
    build_token_request,
    decrypt_token,
    encrypt_token,
    encrypt_token_with,
    open_notification,
    parse_notification_request,
    parse_token_message,
)
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from tests.helpers.nostr_factories import NOW, CountingRng, secret

SERVER = SecretKey(b"\x11" * 32)
EPHEMERAL = SecretKey(b"\x22" * 32)
APNS = PushToken(Platform.APNS, b"\xcd" * 32)
NONCE = b"\x55" * 12
PADDING = b"\x99" * (1024 - 35)


def _oracle_token(server_pub_x: bytes, eph_secret: bytes, plaintext: bytes, nonce: bytes) -> bytes:
    """The same construction through pyca/cryptography's own ECDH and HKDF."""
    curve = ec.SECP256K1()
    eph = ec.derive_private_key(int.from_bytes(eph_secret, "big"), curve)
    server = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x02" + server_pub_x)
    shared_x = eph.exchange(ec.ECDH(), server)
    key = HKDF(hashes.SHA256(), 32, b"mip05-v1", b"mip05-token-encryption").derive(shared_x)
    eph_x = eph.public_key().public_numbers().x.to_bytes(32, "big")
    return eph_x + nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, b"")


def test_known_answer_token() -> None:
    token = encrypt_token_with(SERVER.public_key(), APNS, EPHEMERAL, NONCE, PADDING)
    plaintext = b"\x01\x00\x20" + b"\xcd" * 32 + PADDING
    assert len(plaintext) == 1024
    assert token == _oracle_token(SERVER.public_key().data, EPHEMERAL.data, plaintext, NONCE)
    assert len(token) == ENCRYPTED_TOKEN_LEN
    assert token[:32] == EPHEMERAL.public_key().data
    assert token[32:44] == NONCE
    # Pinned once both constructions agreed, so a change to either one shows up here.
    assert hashlib.sha256(token).hexdigest() == (
        "17e8c015938ea0c107e5565dc662565b77945742a3d06d3e554e17b05b5aa3bd"
    )
    assert decrypt_token(SERVER, token) == APNS


@pytest.mark.parametrize(
    "token",
    [
        PushToken(Platform.FCM, b"f"),
        PushToken(Platform.FCM, b"fcm:" + b"x" * 1017),
        PushToken.from_registration(Platform.APNS, "ab" * 32),
        PushToken.from_registration(Platform.FCM, "firebase-token"),
    ],
)
def test_round_trip(token: PushToken) -> None:
    encrypted = encrypt_token(SERVER.public_key(), token, rng=CountingRng())
    assert len(encrypted) == ENCRYPTED_TOKEN_LEN
    assert decrypt_token(SERVER, encrypted) == token
    assert token.device_token.hex() not in repr(token)


def test_two_encryptions_differ() -> None:
    a = encrypt_token(SERVER.public_key(), APNS)
    b = encrypt_token(SERVER.public_key(), APNS)
    assert a != b and a[:32] != b[:32]


def _raw_token(plaintext: bytes) -> bytes:
    return _oracle_token(SERVER.public_key().data, EPHEMERAL.data, plaintext, NONCE)


@pytest.mark.parametrize(
    ("encrypted", "reason"),
    [
        (b"\x00" * 1083, "1084 bytes"),
        (b"\x00" * 1085, "1084 bytes"),
        (b"\x05" * 32 + b"\x00" * 1052, "not on secp256k1"),
        (_raw_token(b"\x03\x00\x01x" + bytes(1020)), "platform"),
        (_raw_token(b"\x01\x00\x00" + bytes(1021)), "length 0"),
        (_raw_token(b"\x01\x03\xfe" + bytes(1021)), "length 1022"),
    ],
)
def test_decrypt_refuses(encrypted: bytes, reason: str) -> None:
    with pytest.raises(InvalidPushMessage, match=reason):
        decrypt_token(SERVER, encrypted)


def test_decrypt_refuses_tampering_and_the_wrong_server() -> None:
    token = encrypt_token(SERVER.public_key(), APNS, rng=CountingRng())
    tampered = token[:90] + bytes([token[90] ^ 1]) + token[91:]
    with pytest.raises(InvalidPushMessage, match="does not decrypt"):
        decrypt_token(SERVER, tampered)
    with pytest.raises(InvalidPushMessage, match="does not decrypt"):
        decrypt_token(secret("other server"), token)


def test_device_token_length_limits() -> None:
    with pytest.raises(InvalidPushMessage):
        PushToken(Platform.FCM, b"")
    with pytest.raises(InvalidPushMessage):
        PushToken(Platform.FCM, b"x" * 1022)
    with pytest.raises(InvalidPushMessage, match="hex"):
        PushToken.from_registration(Platform.APNS, "not hex")
    with pytest.raises(UsageError):
        encrypt_token_with(SERVER.public_key(), APNS, EPHEMERAL, NONCE, PADDING[1:])


# --- gossip rumors ------------------------------------------------------------------------

ALICE = secret("alice").public_key()
TOKEN_A = TokenTag(b"\x01" * 1084, SERVER.public_key(), "wss://Push.Example:443")
TOKEN_B = TokenTag(b"\x02" * 1084, SERVER.public_key(), "wss://push.example")
B64_A = base64.b64encode(b"\x01" * 1084).decode()
SERVER_HEX = SERVER.public_key().hex
REQ_ID = "ab" * 32


def test_token_request_shape_and_parse() -> None:
    rumor = build_token_request(ALICE, NOW, [TOKEN_A])
    assert rumor.kind == 447 and rumor.content == ""
    assert rumor.tags == (("token", B64_A, SERVER_HEX, "wss://push.example"),)
    assert parse_token_message(rumor) == TokenRequest((TOKEN_A,))


def test_token_list_shape_and_parse() -> None:
    rumor = build_token_list(
        ALICE, NOW, REQ_ID, [LeafTokenTag(TOKEN_A, 0), LeafTokenTag(TOKEN_B, 7)]
    )
    assert rumor.kind == 448 and rumor.content == ""
    assert rumor.tags[0] == ("token", B64_A, SERVER_HEX, "wss://push.example", "0")
    assert rumor.tags[-1] == ("e", REQ_ID)
    parsed = parse_token_message(rumor)
    assert isinstance(parsed, TokenList)
    assert parsed.request_id == REQ_ID
    assert [t.leaf_index for t in parsed.tokens] == [0, 7]


def test_token_removal_shape_and_parse() -> None:
    rumor = build_token_removal(ALICE, NOW)
    assert (rumor.kind, rumor.tags, rumor.content) == (449, (), "")
    assert parse_token_message(rumor) == TokenRemoval()


def _rumor(kind: int, tags: list[list[str]], content: str = "") -> UnsignedEvent:
    return UnsignedEvent.create(ALICE, NOW, kind, content, tags)


TOKEN4 = ["token", B64_A, SERVER_HEX, "wss://push.example"]


@pytest.mark.parametrize(
    ("rumor", "reason"),
    [
        (_rumor(9, []), "not a MIP-05"),
        (_rumor(447, [TOKEN4], "x"), "empty content"),
        (_rumor(447, []), "at least one"),
        (_rumor(447, [TOKEN4, ["p", SERVER_HEX]]), "only token tags"),
        (_rumor(447, [TOKEN4[:3]]), "exactly 4"),
        (_rumor(447, [[*TOKEN4, "0"]]), "exactly 4"),
        (_rumor(447, [["token", "!!", SERVER_HEX, "wss://r"]]), "base64"),
        (_rumor(447, [["token", B64_A[:-4], SERVER_HEX, "wss://r"]]), "1084"),
        (_rumor(447, [["token", B64_A, "00" * 32, "wss://r"]]), "server public key"),
        (_rumor(447, [["token", B64_A, "zz", "wss://r"]]), "server public key"),
        (_rumor(447, [["token", B64_A, SERVER_HEX, "https://r"]]), "relay hint"),
        (_rumor(448, [[*TOKEN4, "1"]]), "exactly one request"),
        (_rumor(448, [[*TOKEN4, "1"], ["e", REQ_ID], ["e", REQ_ID]]), "exactly one request"),
        (_rumor(448, [["e", REQ_ID]]), "at least one"),
        (_rumor(448, [TOKEN4, ["e", REQ_ID]]), "exactly 5"),
        (_rumor(448, [[*TOKEN4, "x"], ["e", REQ_ID]]), "leaf index"),
        (_rumor(448, [[*TOKEN4, "-1"], ["e", REQ_ID]]), "leaf index"),
        (_rumor(448, [[*TOKEN4, str(2**32)], ["e", REQ_ID]]), "leaf index"),
        (_rumor(448, [[*TOKEN4, "3"], [*TOKEN4, "3"], ["e", REQ_ID]]), "twice"),
        (_rumor(448, [[*TOKEN4, "3"], ["e", "12"]]), "64 hex"),
        (_rumor(448, [[*TOKEN4, "3"], ["e"]]), "event id"),
        (_rumor(448, [[*TOKEN4, "3"], ["e", REQ_ID], ["p", REQ_ID]]), "only token tags"),
        (_rumor(448, [[*TOKEN4, "3"], ["e", REQ_ID]], "x"), "empty content"),
        (_rumor(449, [["e", REQ_ID]]), "no tags"),
        (_rumor(449, [], "x"), "empty content"),
    ],
)
def test_token_messages_are_refused(rumor: UnsignedEvent, reason: str) -> None:
    with pytest.raises(InvalidPushMessage, match=reason):
        parse_token_message(rumor)


def test_builders_refuse_bad_input() -> None:
    with pytest.raises(InvalidPushMessage):
        build_token_request(ALICE, NOW, [])
    with pytest.raises(InvalidPushMessage):
        build_token_list(ALICE, NOW, REQ_ID, [])
    with pytest.raises(InvalidPushMessage, match="twice"):
        build_token_list(ALICE, NOW, REQ_ID, [LeafTokenTag(TOKEN_A, 1), LeafTokenTag(TOKEN_B, 1)])
    with pytest.raises(InvalidPushMessage):
        LeafTokenTag(TOKEN_A, 2**32)
    with pytest.raises(InvalidPushMessage):
        TokenTag(b"\x01" * 10, SERVER.public_key(), "wss://r")


# --- triggers -----------------------------------------------------------------------------


def test_notification_request_shape_and_parse() -> None:
    tokens = [b"\x01" * 1084, b"\x02" * 1084]
    rumor = build_notification_request(ALICE, NOW, tokens)
    assert rumor.kind == 446
    assert rumor.tags == (("v", "mip05-v1"), ("encoding", "base64"))
    assert base64.b64decode(rumor.content) == b"".join(tokens)
    assert parse_notification_request(rumor) == tuple(tokens)


def _trigger(tags: list[list[str]], content: str | None = None) -> UnsignedEvent:
    body = base64.b64encode(b"\x01" * 1084).decode() if content is None else content
    return UnsignedEvent.create(ALICE, NOW, 446, body, tags)


V, ENC = ["v", "mip05-v1"], ["encoding", "base64"]


@pytest.mark.parametrize(
    ("rumor", "reason"),
    [
        (_rumor(445, [V, ENC]), "not a notification"),
        (_trigger([ENC]), "no version"),
        (_trigger([V]), "no encoding"),
        (_trigger([V, V, ENC]), "duplicate"),
        (_trigger([V, ENC, ENC]), "duplicate"),
        (_trigger([["v", "marmot-push-v1"], ENC]), "exactly"),
        (_trigger([[*V, "extra"], ENC]), "exactly"),
        (_trigger([V, ["encoding", "hex"]]), "exactly"),
        (_trigger([V, ENC, ["p", "x"]]), "unexpected"),
        (_trigger([V, ENC], "***"), "base64"),
        (_trigger([V, ENC], ""), "at least one"),
        (_trigger([V, ENC], base64.b64encode(b"\x01" * 1083).decode()), "whole tokens"),
    ],
)
def test_notification_requests_are_refused(rumor: UnsignedEvent, reason: str) -> None:
    with pytest.raises(InvalidPushMessage, match=reason):
        parse_notification_request(rumor)


def test_encoding_tag_may_be_optional_for_a_server() -> None:
    assert len(parse_notification_request(_trigger([V]), require_encoding=False)) == 1


def test_build_notification_request_limits() -> None:
    with pytest.raises(UsageError):
        build_notification_request(ALICE, NOW, [b"\x01" * 1084] * 26)
    with pytest.raises(InvalidPushMessage):
        build_notification_request(ALICE, NOW, [])


def _tokens(server: SecretKey, n: int, hint: str = "wss://r.example") -> list[TokenTag]:
    return [
        TokenTag(
            encrypt_token(server.public_key(), PushToken(Platform.FCM, b"t%d" % i)),
            server.public_key(),
            hint,
        )
        for i in range(n)
    ]


def test_batches_group_by_server_chunk_by_25_and_open_at_the_server() -> None:
    other = secret("second server")
    tokens = _tokens(SERVER, 26) + _tokens(other, 1, "wss://o.example")
    tokens.append(_tokens(SERVER, 1, "wss://second.example")[0])
    batches = build_notification_batches(tokens, now=NOW, rng=CountingRng())
    assert [len(b.events) for b in batches] == [2, 1]
    first = batches[0]
    assert first.server_pubkey == SERVER.public_key()
    assert first.relay_hints == ("wss://r.example", "wss://second.example")
    opened = [open_notification(e, SERVER) for e in first.events]
    assert [len(o) for o in opened] == [25, 2]
    assert [decrypt_token(SERVER, t).device_token for t in opened[0][:2]] == [b"t0", b"t1"]
    for event in first.events:
        assert event.kind == 1059
        assert event.tags[-1] == ("p", SERVER.public_key().hex)
        with pytest.raises(InvalidPushMessage):
            open_notification(event, other)


def test_each_chunk_uses_fresh_keys() -> None:
    batch = build_notification_batches(_tokens(SERVER, 30), now=NOW)[0]
    authors = {e.pubkey for e in batch.events}
    assert len(authors) == 2
    seals = [
        sdk.UnwrappedGift.from_gift_wrap(
            sdk.Keys(sdk.SecretKey.from_bytes(SERVER.data)), sdk.Event.from_json(e.to_json())
        )
        for e in batch.events
    ]
    senders = {s.sender().to_hex() for s in seals}
    assert len(senders) == 2 and not senders & authors


def test_batches_refuse_duplicates_and_emptiness() -> None:
    token = _tokens(SERVER, 1)[0]
    with pytest.raises(InvalidPushMessage, match="twice"):
        build_notification_batches([token, token], now=NOW)
    with pytest.raises(InvalidPushMessage):
        build_notification_batches([], now=NOW)


def test_nostr_sdk_opens_our_trigger_and_we_open_theirs() -> None:
    token = _tokens(SERVER, 1)[0]
    wrap = build_notification_batches([token], now=NOW)[0].events[0]
    server_keys = sdk.Keys(sdk.SecretKey.from_bytes(SERVER.data))
    gift = sdk.UnwrappedGift.from_gift_wrap(server_keys, sdk.Event.from_json(wrap.to_json()))
    rumor = json.loads(gift.rumor().as_json())
    assert rumor["kind"] == 446
    assert rumor["pubkey"] == gift.sender().to_hex()  # rumor and seal share the ephemeral key
    assert base64.b64decode(rumor["content"]) == token.encrypted_token
    # and a trigger wrapped by rust-nostr opens here
    ephemeral = sdk.Keys.generate()
    ours = build_notification_request(ephemeral.public_key().to_hex(), NOW, [token.encrypted_token])
    theirs = sdk.UnsignedEvent.from_json(ours.to_json())
    their_wrap = sdk.nip59_make_gift_wrap(ephemeral, server_keys.public_key(), theirs)
    assert open_notification(Event.from_json(their_wrap.as_json()), SERVER) == (
        token.encrypted_token,
    )
