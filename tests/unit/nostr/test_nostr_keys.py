from __future__ import annotations

import hashlib

import pytest

from nostr import bech32, nip19
from nostr.errors import DecodeError, InvalidKey, InvalidSignature
from nostr.keys import CURVE_ORDER, PublicKey, SecretKey
from tests.helpers.nostr_factories import CountingRng, secret

# NIP-19's own examples.
NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
NPUB_HEX = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
NSEC_HEX = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
ALICE = secret("alice").public_key().data
NPROFILE = (
    "nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4"
    "mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p"
)


def test_secret_key_range_is_enforced() -> None:
    for bad in (bytes(32), CURVE_ORDER.to_bytes(32, "big"), b"\xff" * 32):
        with pytest.raises(InvalidKey):
            SecretKey(bad)
    with pytest.raises(InvalidKey):
        SecretKey(b"\x01" * 31)
    assert SecretKey((CURVE_ORDER - 1).to_bytes(32, "big")).public_key()


def test_secret_never_appears_in_repr() -> None:
    key = secret("alice")
    assert key.secret_hex() not in repr(key)
    assert key.data.hex() not in repr(key)


def test_public_key_must_be_on_the_curve() -> None:
    with pytest.raises(InvalidKey):
        PublicKey(bytes(32))
    with pytest.raises(InvalidKey):
        PublicKey(b"\x02" * 33)
    with pytest.raises(DecodeError):
        PublicKey.from_hex("zz" * 32)
    with pytest.raises(DecodeError):
        PublicKey.from_hex("ab" * 31)


def test_generate_draws_from_rng() -> None:
    assert SecretKey.generate(CountingRng("x")) == SecretKey.generate(CountingRng("x"))
    assert SecretKey.generate(CountingRng("x")) != SecretKey.generate(CountingRng("y"))


def test_generate_rejects_out_of_range_draws() -> None:
    draws = iter([bytes(32), b"\xff" * 32, b"\x07" * 32])
    key = SecretKey.generate(lambda n: next(draws))
    assert key.data == b"\x07" * 32


def test_schnorr_sign_and_verify() -> None:
    key = secret("alice")
    message = hashlib.sha256(b"m").digest()
    signature = key.sign_schnorr(message, rng=CountingRng())
    key.public_key().verify(signature, message)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, hashlib.sha256(b"other").digest())
    with pytest.raises(InvalidSignature):
        secret("bob").public_key().verify(signature, message)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature[:63], message)
    with pytest.raises(InvalidKey):
        key.sign_schnorr(b"short")


def test_ecdh_x_is_symmetric_and_unhashed() -> None:
    a, b = secret("alice"), secret("bob")
    shared = a.shared_x(b.public_key())
    assert shared == b.shared_x(a.public_key())
    assert len(shared) == 32
    # x(a * B) equals the x-only public key of the scalar a*b mod n.
    product = int.from_bytes(a.data, "big") * int.from_bytes(b.data, "big") % CURVE_ORDER
    assert shared == SecretKey(product.to_bytes(32, "big")).public_key().data


def test_npub_and_nsec_match_nip19_examples() -> None:
    assert PublicKey.from_hex(NPUB_HEX).to_bech32() == NPUB
    assert PublicKey.from_bech32(NPUB).hex == NPUB_HEX
    assert SecretKey.from_hex(NSEC_HEX).to_bech32() == NSEC
    assert SecretKey.from_bech32(NSEC).secret_hex() == NSEC_HEX
    with pytest.raises(DecodeError):
        PublicKey.from_bech32(NSEC)


def test_nprofile_matches_nip19_example() -> None:
    profile = nip19.decode(NPROFILE)
    assert isinstance(profile, nip19.Profile)
    assert (
        profile.public_key.hex == "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"
    )
    assert profile.relays == ("wss://r.x.com", "wss://djbas.sadkb.com")
    assert nip19.encode_profile(profile) == NPROFILE


@pytest.mark.parametrize(
    "text",
    [
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    ],
)
def test_bip173_valid_strings(text: str) -> None:
    hrp, _ = bech32.decode(text)
    assert hrp == text.lower()[: text.lower().rfind("1")]


@pytest.mark.parametrize(
    "text",
    [
        "pzry9x0s0muk",  # no separator
        "1pzry9x0s0muk",  # empty hrp
        "x1b4n0q5v",  # invalid data character
        "li1dgmt3",  # checksum too short
        "A1G7SGD8",  # checksum computed over upper-case hrp
        "a12UEL5L",  # mixed case
        NPUB[:-1] + ("q" if NPUB[-1] != "q" else "p"),  # altered checksum
    ],
)
def test_bip173_invalid_strings(text: str) -> None:
    with pytest.raises(DecodeError):
        bech32.decode(text)


def test_nip19_entities_round_trip() -> None:
    alice = secret("alice").public_key()
    event_id = hashlib.sha256(b"e").hexdigest()
    pointers = [
        nip19.EventPointer(event_id, ("wss://relay.example.com",), alice, 445),
        nip19.EventPointer(event_id),
        nip19.AddressPointer("slot-1", alice, 30443, ("wss://a.example", "wss://b.example")),
        nip19.Profile(alice, ("wss://relay.example.com",)),
    ]
    for pointer in pointers:
        if isinstance(pointer, nip19.EventPointer):
            text = nip19.encode_event(pointer)
        elif isinstance(pointer, nip19.AddressPointer):
            text = nip19.encode_address(pointer)
        else:
            text = nip19.encode_profile(pointer)
        assert nip19.decode(text) == pointer
    assert nip19.decode(nip19.encode_note(event_id)) == event_id
    assert nip19.decode(alice.to_bech32()) == alice
    assert nip19.decode(secret("alice").to_bech32()) == secret("alice")


def test_nip19_ignores_unknown_tlv_types() -> None:
    alice = secret("alice").public_key()
    body = bytes([0, 32]) + alice.data + bytes([9, 2]) + b"zz"
    assert nip19.decode(bech32.encode("nprofile", body)) == nip19.Profile(alice)


@pytest.mark.parametrize(
    ("hrp", "body", "why"),
    [
        ("npub", b"\x01" * 31, "short key"),
        ("note", b"\x01" * 33, "long id"),
        ("nprofile", bytes([0, 32]) + b"\x01" * 10, "truncated TLV value"),
        ("nprofile", bytes([1, 3]) + b"wss", "no public key"),
        ("nevent", bytes([0, 31]) + b"\x01" * 31, "short event id"),
        ("naddr", bytes([0, 1]) + b"d", "no author or kind"),
        ("nevent", bytes([0]), "truncated TLV header"),
        ("nfoo", b"\x01" * 32, "unknown prefix"),
        ("nprofile", bytes([0, 32]) + ALICE + bytes([1, 1]) + b"\xff", "non-ASCII relay"),
        ("naddr", bytes([0, 1, 100, 2, 32]) + ALICE + bytes([3, 2, 0, 1]), "short kind"),
    ],
)
def test_nip19_malformed_entities_raise(hrp: str, body: bytes, why: str) -> None:
    with pytest.raises(DecodeError):
        nip19.decode(bech32.encode(hrp, body))


def test_nip19_off_curve_key_raises_invalid_key() -> None:
    with pytest.raises(InvalidKey):
        nip19.decode(bech32.encode("npub", bytes(32)))


def test_nip19_refuses_non_hex_event_id() -> None:
    with pytest.raises(DecodeError):
        nip19.encode_note("XYZ")
