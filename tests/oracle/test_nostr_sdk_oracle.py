"""rust-nostr (PyPI ``nostr-sdk``) as an independent oracle for our ``nostr`` package.

Byte-level agreement both ways: event ids and signatures, NIP-44 payloads, NIP-59 gift
wraps, and NIP-19 bech32 strings.
"""

from __future__ import annotations

import json

import nostr_sdk as sdk
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nostr import nip19, nip44, nip59
from nostr.errors import DecryptionError, InvalidEvent
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import PublicKey, SecretKey
from nostr.messages import RelayEvent, parse_relay_message
from tests.helpers.nostr_factories import NOW, CountingRng, make_event, secret

TRICKY = [
    "",
    "plain",
    "".join(chr(c) for c in range(32)) + "\x7f",
    'quote " backslash \\ slash / </script>',
    "emoji 🦄 and 𝄞 and e\u0301 and \u2028\u2029 and \ufeff",
    "日本語のテキスト",
    "x" * 70_000,
]


def _their_keys(key: SecretKey) -> sdk.Keys:
    return sdk.Keys(sdk.SecretKey.from_bytes(key.data))


def _their_tags(tags: list[list[str]]) -> list[sdk.Tag]:
    return [sdk.Tag.parse(t) for t in tags]


@pytest.mark.parametrize("content", TRICKY, ids=range(len(TRICKY)))
def test_our_events_verify_there(content: str) -> None:
    tags = [["p", secret("bob").public_key().hex], ["t", content[:50]], ["e", "x", "", "r"]]
    ours = make_event(content=content, tags=tags, kind=445)
    theirs = sdk.Event.from_json(ours.to_json())
    assert theirs.verify()
    assert theirs.id().to_hex() == ours.id
    assert json.loads(theirs.as_json()) == json.loads(ours.to_json())


@pytest.mark.parametrize("content", TRICKY, ids=range(len(TRICKY)))
def test_their_events_verify_here(content: str) -> None:
    keys = _their_keys(secret("carol"))
    builder = sdk.EventBuilder(sdk.Kind(1059), content).tags(
        _their_tags([["p", "a"], ["k", content[:9]]])
    )
    theirs = builder.finalize(keys)
    ours = Event.from_json(theirs.as_json())
    ours.verify()
    assert ours.to_json() == theirs.as_json()


@given(
    content=st.text(max_size=200),
    tags=st.lists(st.lists(st.text(max_size=20), min_size=1, max_size=4), max_size=5),
    kind=st.integers(min_value=0, max_value=65535),
)
def test_ids_agree_on_arbitrary_text(content: str, tags: list[list[str]], kind: int) -> None:
    ours = UnsignedEvent.create(secret("alice").public_key(), NOW, kind, content, tags)
    theirs = sdk.EventId.compute(
        sdk.PublicKey.parse(ours.pubkey),
        sdk.Timestamp.from_secs(NOW),
        sdk.Kind(kind),
        _their_tags(tags),
        content,
    )
    assert theirs.to_hex() == ours.id


def test_forgeries_fail_in_both() -> None:
    event = make_event(content="original")
    data = json.loads(event.to_json())
    data["content"] = "forged"
    assert not sdk.Event.from_json(json.dumps(data)).verify()
    with pytest.raises(InvalidEvent):
        Event.from_dict(data).verify()


def test_rumor_json_is_identical() -> None:
    keys = _their_keys(secret("alice"))
    theirs = sdk.EventBuilder(sdk.Kind(444), "wel\ncome").tags(
        _their_tags([["e", "0" * 64], ["encoding", "base64"]])
    )
    rumor = theirs.custom_created_at(sdk.Timestamp.from_secs(NOW)).finalize_unsigned(
        keys.public_key()
    )
    rumor = rumor.ensure_id()
    ours = UnsignedEvent.create(
        secret("alice").public_key(),
        NOW,
        444,
        "wel\ncome",
        [["e", "0" * 64], ["encoding", "base64"]],
    )
    assert ours.to_json() == rumor.as_json()
    assert UnsignedEvent.from_json(rumor.as_json()) == ours


# rust-nostr's encrypt refuses plaintexts somewhat below NIP-44's 65535-byte maximum.
SDK_ENCRYPT_MAX = 65_000


@pytest.mark.parametrize("plaintext", [t for t in TRICKY if 0 < len(t) <= SDK_ENCRYPT_MAX])
def test_nip44_both_ways(plaintext: str) -> None:
    alice, bob = secret("alice"), secret("bob")
    ours = nip44.encrypt(plaintext, nip44.conversation_key(alice, bob.public_key()))
    their_bob = sdk.SecretKey.from_bytes(bob.data)
    their_alice_pub = sdk.PublicKey.parse(alice.public_key().hex)
    assert sdk.nip44_decrypt(their_bob, their_alice_pub, ours) == plaintext
    theirs = sdk.nip44_encrypt(
        sdk.SecretKey.from_bytes(alice.data),
        sdk.PublicKey.parse(bob.public_key().hex),
        plaintext,
        sdk.Nip44Version.V2,
    )
    assert nip44.decrypt(theirs, nip44.conversation_key(bob, alice.public_key())) == plaintext


def test_nip44_maximum_length_opens_there() -> None:
    alice, bob = secret("alice"), secret("bob")
    plaintext = "🦄" * (65535 // 4) + "abc"
    assert len(plaintext.encode()) == 65535
    ours = nip44.encrypt(plaintext, nip44.conversation_key(alice, bob.public_key()))
    their_bob = sdk.SecretKey.from_bytes(bob.data)
    assert (
        sdk.nip44_decrypt(their_bob, sdk.PublicKey.parse(alice.public_key().hex), ours) == plaintext
    )


def test_their_gift_wraps_unwrap_here() -> None:
    alice, bob = secret("alice"), secret("bob")
    rumor = sdk.EventBuilder(sdk.Kind(444), "hello").tags(_their_tags([["e", "0" * 64]]))
    unsigned = rumor.finalize_unsigned(sdk.PublicKey.parse(alice.public_key().hex))
    extra = _their_tags([["expiration", str(NOW + 86400)]])
    wrap = sdk.nip59_make_gift_wrap(
        _their_keys(alice), sdk.PublicKey.parse(bob.public_key().hex), unsigned, extra_tags=extra
    )
    opened = nip59.unwrap(Event.from_json(wrap.as_json()), bob)
    assert opened.sender == alice.public_key()
    assert opened.rumor.content == "hello"
    assert opened.rumor.kind == 444
    assert opened.rumor.id == unsigned.ensure_id().id().to_hex()
    with pytest.raises(DecryptionError):  # not addressed to carol
        nip59.unwrap(Event.from_json(wrap.as_json()), secret("carol"))


def test_our_gift_wraps_unwrap_there() -> None:
    alice, bob = secret("alice"), secret("bob")
    rumor = UnsignedEvent.create(alice.public_key(), NOW, 444, "hi 🦄", [["relays", "wss://r"]])
    wrap = nip59.gift_wrap(rumor, alice, bob.public_key(), now=NOW, rng=CountingRng())
    opened = sdk.UnwrappedGift.from_gift_wrap(_their_keys(bob), sdk.Event.from_json(wrap.to_json()))
    assert opened.sender().to_hex() == alice.public_key().hex
    assert opened.rumor().as_json() == rumor.to_json()


def test_bech32_strings_are_equal() -> None:
    key = secret("alice")
    their_keys = _their_keys(key)
    assert key.public_key().to_bech32() == their_keys.public_key().to_bech32()
    assert key.to_bech32() == their_keys.secret_key().to_bech32()
    event = make_event(kind=445)
    their_id = sdk.EventId.parse(event.id)
    assert nip19.encode_note(event.id) == their_id.to_bech32()
    relays = ["wss://relay.example.com", "ws://127.0.0.1:7777"]
    their_relays = [sdk.RelayUrl.parse(r) for r in relays]
    their_pub = their_keys.public_key()
    assert nip19.encode_profile(nip19.Profile(key.public_key(), tuple(relays))) == (
        sdk.Nip19Profile(their_pub, their_relays).to_bech32()
    )
    pointer = nip19.EventPointer(event.id, tuple(relays), key.public_key(), 445)
    theirs = sdk.Nip19Event(their_id, their_pub, sdk.Kind(445), their_relays)
    assert nip19.encode_event(pointer) == theirs.to_bech32()
    address = nip19.AddressPointer("slot", key.public_key(), 30443, tuple(relays))
    coordinate = sdk.Coordinate(sdk.Kind(30443), their_pub, "slot")
    assert (
        nip19.encode_address(address) == sdk.Nip19Coordinate(coordinate, their_relays).to_bech32()
    )
    their_event = sdk.Nip19Event.from_event(sdk.Event.from_json(event.to_json())).to_bech32()
    assert nip19.decode(their_event) == nip19.EventPointer(event.id, (), event.author, 445)
    assert nip19.decode(theirs.to_bech32()) == pointer


def test_public_keys_parse_the_same() -> None:
    their = sdk.Keys.generate()
    ours = PublicKey.from_bech32(their.public_key().to_bech32())
    assert ours.hex == their.public_key().to_hex()


def test_filters_and_messages_agree() -> None:
    bob = secret("bob").public_key().hex
    flt = Filter(kinds={445, 1}, tags={"h": {"g"}, "p": {bob}}, since=NOW - 5, limit=3)
    theirs = sdk.Filter.from_json(json.dumps(flt.to_dict()))
    assert json.loads(theirs.as_json()) == flt.to_dict()
    events = [
        make_event(kind=445, tags=[["h", "g"], ["p", bob]]),
        make_event(kind=445, tags=[["h", "x"], ["p", bob]]),
        make_event(kind=2, tags=[["h", "g"], ["p", bob]]),
        make_event(kind=1, tags=[["h", "g"], ["p", bob]], created_at=NOW - 6),
    ]
    for event in events:
        assert flt.matches(event) == theirs.match_event(sdk.Event.from_json(event.to_json()))
    frame = RelayEvent("sub", events[0]).to_json()
    assert json.loads(sdk.RelayMessage.from_json(frame).as_json()) == json.loads(frame)
    their_frame = sdk.RelayMessage.event("s", sdk.Event.from_json(events[1].to_json())).as_json()
    assert parse_relay_message(their_frame) == RelayEvent("s", events[1])
