"""NIP-46 and NIP-49 parsers under arbitrary input: a typed error or a value, never a crash;
connection strings we build parse back to themselves."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given
from hypothesis import strategies as st

from nostr import nip46, nip49
from nostr.errors import DecodeError, InvalidKey, NostrError
from nostr.nip46_uri import BunkerUri, NostrConnectUri, quote, unquote
from tests.helpers.nostr_factories import secret

USER = secret("alice").public_key()
relays = st.lists(
    st.sampled_from(["wss://a.example", "ws://127.0.0.1:4869", "wss://b.example/path"]),
    min_size=1,
    max_size=3,
    unique=True,
).map(tuple)


@given(st.text(max_size=300))
def test_connection_strings_raise_only_decode_errors(text: str) -> None:
    for parse in (BunkerUri.parse, NostrConnectUri.parse):
        with contextlib.suppress(DecodeError, InvalidKey):
            parse(text)


@given(st.text(max_size=200))
def test_bunker_tail_after_a_valid_key_raises_only_decode_errors(tail: str) -> None:
    with contextlib.suppress(DecodeError):
        BunkerUri.parse(f"bunker://{USER.hex}?{tail}")


@given(relays=relays, secret_text=st.text(min_size=1, max_size=40), name=st.text(max_size=20))
def test_built_strings_parse_back(relays: tuple[str, ...], secret_text: str, name: str) -> None:
    bunker = BunkerUri(USER, relays, secret_text)
    assert BunkerUri.parse(bunker.to_uri()) == bunker
    offer = NostrConnectUri(USER, relays, secret_text, ("nip44_encrypt",), name or None)
    assert NostrConnectUri.parse(offer.to_uri()) == offer


@given(st.text())
def test_quote_round_trip(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:
        return  # lone surrogates are not text a URI can carry
    assert unquote(quote(text)) == text


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=10,
    )
)
def test_messages_parse_or_raise_decode_error(value: object) -> None:
    with contextlib.suppress(DecodeError):
        nip46.parse_message(json.dumps(value))


@given(st.text(max_size=250), st.text(max_size=10))
def test_ncryptsec_raises_only_nostr_errors(text: str, passphrase: str) -> None:
    with contextlib.suppress(NostrError):
        nip49.decrypt(text, passphrase)
