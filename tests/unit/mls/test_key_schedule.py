"""Key schedule behaviour beyond the vectors: Welcome keys, inputs that matter, repr."""

from __future__ import annotations

import pytest

from mls.crypto import get_suite
from mls.errors import UsageError
from mls.key_schedule import EpochSecrets, psk_secret, welcome_key_nonce
from mls.messages.codepoints import ResumptionPSKUsage
from mls.messages.proposals import PreSharedKeyID

SUITE = get_suite(3)
ZERO = bytes(32)


def epoch(context: bytes = b"ctx", commit: bytes = ZERO, psk: bytes = ZERO) -> EpochSecrets:
    return EpochSecrets.advance(SUITE, b"\x01" * 32, commit, psk, context)


def test_every_input_changes_every_secret() -> None:
    base = epoch()
    names = set(EpochSecrets.__dataclass_fields__)
    for other, changed in (
        (epoch(context=b"ctx2"), names),
        (epoch(commit=b"\x02" * 32), names),
        (epoch(psk=b"\x03" * 32), names - {"joiner_secret"}),  # PSKs enter after the joiner
    ):
        assert {n for n in names if getattr(other, n) != getattr(base, n)} == changed


def test_welcome_key_and_nonce_sizes() -> None:
    key, nonce = welcome_key_nonce(SUITE, epoch().welcome_secret)
    assert (len(key), len(nonce)) == (SUITE.nk, SUITE.nn)


def test_secrets_stay_out_of_repr() -> None:
    secrets = epoch()
    text = repr(secrets)
    for name in secrets.__dataclass_fields__:
        assert getattr(secrets, name).hex() not in text


def test_psk_order_and_kind_matter() -> None:
    ext = PreSharedKeyID.external(b"id", b"n" * 32)
    res = PreSharedKeyID.resumption(ResumptionPSKUsage.APPLICATION, b"group", 4, b"n" * 32)
    a = psk_secret(SUITE, [(ext, b"k1"), (res, b"k2")])
    b = psk_secret(SUITE, [(res, b"k2"), (ext, b"k1")])
    assert len({a, b, psk_secret(SUITE, [(ext, b"k1")])}) == 3


def test_psk_count_is_a_uint16() -> None:
    ext = PreSharedKeyID.external(b"id", b"")
    with pytest.raises(UsageError):
        psk_secret(SUITE, [(ext, b"")] * 0x10000)
