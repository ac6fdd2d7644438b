"""Pasted keys that do not parse get a sentence, never bech32 internals or the text itself."""

from __future__ import annotations

import pytest

from app.accounts import parse_nsec
from app.contacts import parse_person
from app.errors import InvalidInput
from nostr.keys import SecretKey

SECRET = SecretKey.from_hex("11" * 32)
NSEC = SECRET.to_bech32()
NPUB = SECRET.public_key().to_bech32()


def _person_error(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_person(text)
    message = caught.value.message
    assert "bech32" not in message and "checksum" not in message and "bytes" not in message
    return message


def test_cut_off_or_mistyped_npub() -> None:
    assert (
        _person_error(NPUB[:40])
        == "that is not a valid npub (it looks cut off: 40 of 63 characters)"
    )
    typo = NPUB[:-1] + ("q" if NPUB[-1] != "q" else "p")
    assert _person_error(typo) == "that is not a valid npub (it looks cut off or mistyped)"
    assert "'b'" in _person_error(NPUB[:10] + "b" + NPUB[11:])


def test_an_nsec_in_the_npub_box_is_not_echoed() -> None:
    message = _person_error(NSEC)
    assert "secret key" in message and NSEC[5:] not in message
    assert _person_error("").startswith("paste an npub or an nprofile")
    assert "not an npub or an nprofile" in _person_error("alice")
    assert "64 characters" in _person_error("abcd" * 4)


def test_nsec_errors() -> None:
    with pytest.raises(InvalidInput, match="public key"):
        parse_nsec(NPUB)
    with pytest.raises(InvalidInput, match="not a valid nsec") as caught:
        parse_nsec(NSEC[:-3])
    assert NSEC[:-3] not in caught.value.message
    assert parse_nsec(NSEC).public_key() == SECRET.public_key()
