"""marmot-push-v1 token encryption (Profile B).

No vector file in ``shared/marmot-vectors`` covers the token encryption (the only push
vector, ``extracted/marmot-push-v1-removal-owner-proof.json``, is the owner proof, used
in ``test_darkmatter_push.py``). So the key schedule is checked against an independent
computation (coincurve's ECDH and ``cryptography``'s HKDF, not our helpers), and every
refusal of the server side is made to happen once.
"""

from __future__ import annotations

import hashlib

import coincurve
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from marmot import push as profile_a
from marmot.errors import InvalidPushMessage, UsageError
from marmot.profile_b.push_token import (
    ENCRYPTED_TOKEN_LEN,
    Platform,
    PushToken,
    decrypt_token,
    encrypt_token,
    encrypt_token_with,
    parse_provider_token,
    platform_from_name,
    token_fingerprint,
)
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

SERVER = SecretKey(bytes([0x11]) * 32)
EPHEMERAL = SecretKey(bytes([0x22]) * 32)
NONCE = bytes(range(12))


def _independent_key(ephemeral: SecretKey, server_x: bytes) -> bytes:
    """The spec's schedule written out with other libraries: raw x of the ECDH point
    (server lifted to even y), HKDF-SHA256 Extract(salt) then Expand(info, 32)."""
    point = coincurve.PublicKey(b"\x02" + server_x).multiply(ephemeral.data)
    shared_x = point.format(compressed=True)[1:]
    hkdf = HKDF(hashes.SHA256(), 32, b"marmot-push-token-v1", b"marmot-push-token-encryption")
    return hkdf.derive(shared_x)


def _rng(seed: int):  # type: ignore[no-untyped-def]
    state = [seed]

    def rng(n: int) -> bytes:
        state[0] += 1
        return hashlib.shake_256(state[0].to_bytes(8, "big")).digest(n)

    return rng


def test_the_blob_is_what_the_spec_schedule_gives() -> None:
    token = PushToken(Platform.APNS, bytes.fromhex("aabbcc"))
    padding = bytes([0x5A]) * 1018
    blob = encrypt_token_with(SERVER.public_key(), token, EPHEMERAL, NONCE, padding)
    assert len(blob) == ENCRYPTED_TOKEN_LEN == 1084
    assert blob[:32] == EPHEMERAL.public_key().data and blob[32:44] == NONCE
    key = _independent_key(EPHEMERAL, SERVER.public_key().data)
    plaintext = b"\x01" + (3).to_bytes(2, "big") + bytes.fromhex("aabbcc") + padding
    assert blob[44:] == ChaCha20Poly1305(key).encrypt(NONCE, plaintext, b"")
    assert decrypt_token(SERVER, blob) == token


def test_profile_a_and_b_keys_are_apart() -> None:
    token = PushToken(Platform.FCM, b"opaque-fcm-token")
    padding = bytes(1021 - len(token.device_token))
    b_blob = encrypt_token_with(SERVER.public_key(), token, EPHEMERAL, NONCE, padding)
    a_blob = profile_a.encrypt_token_with(SERVER.public_key(), token, EPHEMERAL, NONCE, padding)
    assert a_blob[:44] == b_blob[:44] and a_blob[44:] != b_blob[44:]
    with pytest.raises(InvalidPushMessage):
        profile_a.decrypt_token(SERVER, b_blob)
    with pytest.raises(InvalidPushMessage):
        decrypt_token(SERVER, a_blob)


@pytest.mark.parametrize(
    ("platform", "device"), [(Platform.APNS, b"\xaa\xbb\xcc"), (Platform.FCM, b"x" * 1021)]
)
def test_round_trip_with_fresh_randomness(platform: Platform, device: bytes) -> None:
    token = PushToken(platform, device)
    blobs = {encrypt_token(SERVER.public_key(), token, rng=_rng(s)) for s in (1, 2)}
    assert len(blobs) == 2  # fresh ephemeral key and nonce each time
    for blob in blobs:
        assert decrypt_token(SERVER, blob) == token


def _sealed(plaintext: bytes) -> bytes:
    key = _independent_key(EPHEMERAL, SERVER.public_key().data)
    return (
        EPHEMERAL.public_key().data + NONCE + ChaCha20Poly1305(key).encrypt(NONCE, plaintext, b"")
    )


def test_each_server_side_refusal() -> None:
    good = encrypt_token(SERVER.public_key(), PushToken(Platform.FCM, b"t"), rng=_rng(3))
    cases = {
        "1084": good[:-1],
        "not on secp256k1": (b"\xff" * 32) + good[32:],  # x >= p: no curve point
        "does not decrypt": good[:-1] + bytes([good[-1] ^ 1]),
        "platform byte": _sealed(b"\x03" + (1).to_bytes(2, "big") + bytes(1021)),
        "length 0": _sealed(b"\x01" + (0).to_bytes(2, "big") + bytes(1021)),
        "length 1022": _sealed(b"\x01" + (1022).to_bytes(2, "big") + bytes(1021)),
    }
    for reason, blob in cases.items():
        with pytest.raises(InvalidPushMessage, match=reason):
            decrypt_token(SERVER, blob)
    with pytest.raises(InvalidPushMessage, match="does not decrypt"):
        decrypt_token(SecretKey(bytes([0x33]) * 32), good)


def test_fingerprint_and_registration_strings() -> None:
    apns = parse_provider_token(Platform.APNS, "00aaff")
    assert apns.device_token == b"\x00\xaa\xff"
    digest = hashlib.sha256(b"\x01\x00\xaa\xff").hexdigest()
    assert token_fingerprint(apns) == "sha256:" + digest[:24]
    fcm = parse_provider_token(Platform.FCM, "abc.DEF:_-")
    assert fcm.device_token == b"abc.DEF:_-"
    assert token_fingerprint(fcm) != token_fingerprint(PushToken(Platform.APNS, fcm.device_token))
    for bad in ("", "AABB", "abc", "not-hex"):
        with pytest.raises(InvalidPushMessage, match="lowercase hex"):
            parse_provider_token(Platform.APNS, bad)
    for size in (0, 1022):
        with pytest.raises(InvalidPushMessage):
            parse_provider_token(Platform.FCM, "x" * size)
    assert platform_from_name("apns") == Platform.APNS
    for name in ("APNS", "Fcm", "webpush"):
        with pytest.raises(InvalidPushMessage):
            platform_from_name(name)
    with pytest.raises(UsageError):
        encrypt_token_with(SERVER.public_key(), apns, EPHEMERAL, NONCE, b"")
