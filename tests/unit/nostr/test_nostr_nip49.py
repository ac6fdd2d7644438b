"""NIP-49 round trips and every way a pasted ncryptsec can be wrong (typed errors)."""

from __future__ import annotations

import pytest

from nostr import bech32, nip49
from nostr.errors import DecodeError, DecryptionError, InvalidKey
from nostr.keys import Rng, SecretKey

SECRET = SecretKey(bytes(range(1, 33)))
LOG_N = 4  # tests keep scrypt cheap; the spec vector covers log_n 16


def _counter_rng() -> Rng:
    state = [0]

    def rng(n: int) -> bytes:
        state[0] += 1
        return bytes([state[0]]) * n

    return rng


def test_round_trip_keeps_key_and_security_byte() -> None:
    text = nip49.encrypt(
        SECRET, "pass", log_n=LOG_N, key_security=nip49.KeySecurity.SECURE, rng=_counter_rng()
    )
    assert text.startswith("ncryptsec1")
    opened = nip49.decrypt(text, "pass")
    assert opened.secret == SECRET
    assert opened.key_security is nip49.KeySecurity.SECURE
    assert opened.log_n == LOG_N


def test_fresh_salt_and_nonce_each_time() -> None:
    assert nip49.encrypt(SECRET, "p", log_n=LOG_N) != nip49.encrypt(SECRET, "p", log_n=LOG_N)


def test_passphrase_is_nfkc_normalized() -> None:
    # U+212B ANGSTROM SIGN and U+00C5 are the same letter after NFKC.
    text = nip49.encrypt(SECRET, "\u212b", log_n=LOG_N)
    assert nip49.decrypt(text, "\u00c5").secret == SECRET


def test_wrong_passphrase_is_typed() -> None:
    text = nip49.encrypt(SECRET, "right", log_n=LOG_N)
    with pytest.raises(nip49.WrongPassphrase):
        nip49.decrypt(text, "wrong")
    assert issubclass(nip49.WrongPassphrase, DecryptionError)


def _tamper(text: str, index: int, value: int) -> str:
    _, data = bech32.decode(text)
    raw = bytearray(data)
    raw[index] = value
    return bech32.encode("ncryptsec", bytes(raw))


def test_flipped_security_byte_fails_the_tag() -> None:
    text = nip49.encrypt(SECRET, "p", log_n=LOG_N, key_security=nip49.KeySecurity.INSECURE)
    with pytest.raises(nip49.WrongPassphrase):
        nip49.decrypt(_tamper(text, 42, 1), "p")


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [(0, 1, "version"), (1, 40, "log_n"), (1, 0, "log_n"), (42, 7, "security")],
)
def test_malformed_fields(index: int, value: int, message: str) -> None:
    text = nip49.encrypt(SECRET, "p", log_n=LOG_N)
    with pytest.raises(DecodeError, match=message):
        nip49.decrypt(_tamper(text, index, value), "p")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ncryptsec1qqqq",
        SECRET.to_bech32(),
        bech32.encode("ncryptsec", bytes(90)),
        "ncryptsec1" + "x" * 150,
    ],
)
def test_garbage_is_a_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        nip49.decrypt(text, "p")


def test_a_zero_key_inside_is_invalid_key() -> None:
    # Encrypt 32 zero bytes by hand with the module's own primitives.
    salt, nonce = bytes(16), bytes(24)
    key = nip49._symmetric_key("p", salt, LOG_N)
    aead, short = nip49._xchacha(key, nonce)
    body = aead.encrypt(short, bytes(32), b"\x02")
    text = bech32.encode("ncryptsec", bytes([2, LOG_N]) + salt + nonce + b"\x02" + body)
    with pytest.raises(InvalidKey):
        nip49.decrypt(text, "p")


def test_looks_like() -> None:
    assert nip49.looks_like("  NCRYPTSEC1abc")
    assert not nip49.looks_like(SECRET.to_bech32())
