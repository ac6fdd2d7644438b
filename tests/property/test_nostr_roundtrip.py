"""Round trips and invariants of the pure Nostr codecs under arbitrary input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nostr import bech32, nip44
from nostr.errors import DecodeError
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.messages import RelayClosed, RelayEvent, RelayNotice, RelayOk, parse_relay_message
from nostr.relay_url import normalize_relay_url
from tests.helpers.nostr_factories import NOW, CountingRng, secret

ALICE, BOB = secret("alice"), secret("bob")
CONVERSATION = nip44.conversation_key(ALICE, BOB.public_key())

tag_lists = st.lists(st.lists(st.text(max_size=16), min_size=1, max_size=4), max_size=6)
hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)


@given(content=st.text(), tags=tag_lists, kind=st.integers(0, 65535), at=st.integers(0, 2**40))
def test_sign_verify_and_json_round_trip(
    content: str, tags: list[list[str]], kind: int, at: int
) -> None:
    event = UnsignedEvent.create(ALICE.public_key(), at, kind, content, tags).sign(
        ALICE, rng=CountingRng()
    )
    event.verify()
    again = Event.from_json(event.to_json())
    assert again == event
    again.verify()
    assert parse_relay_message(RelayEvent("s", event).to_json()) == RelayEvent("s", event)


@given(
    st.text(min_size=1).filter(lambda t: len(t.encode()) <= 65535),
    st.binary(min_size=32, max_size=32),
)
def test_nip44_round_trip(plaintext: str, nonce: bytes) -> None:
    payload = nip44.encrypt_with_nonce(plaintext, CONVERSATION, nonce)
    assert nip44.decrypt(payload, CONVERSATION) == plaintext


@given(st.integers(1, 65535))
def test_nip44_padding_laws(n: int) -> None:
    padded = nip44.calc_padded_len(n)
    assert padded >= max(n, 32)
    assert padded == nip44.calc_padded_len(padded)  # padding is idempotent
    # The chunk is 32 or next_power_of_two / 8 < n / 4, and padding stays within one chunk.
    assert padded - n < max(32, n // 4 + 1)


filters = st.builds(
    Filter,
    ids=st.none() | st.sets(hex64, max_size=3),
    authors=st.none() | st.sets(hex64, max_size=3),
    kinds=st.none() | st.sets(st.integers(0, 65535), max_size=4),
    tags=st.dictionaries(
        st.sampled_from("abcdehpqtzAZ"), st.sets(st.text(max_size=8), max_size=3), max_size=3
    ),
    since=st.none() | st.integers(0, 2**40),
    until=st.none() | st.integers(0, 2**40),
    limit=st.none() | st.integers(0, 5000),
    search=st.none() | st.text(max_size=10),
)


@given(filters)
def test_filter_json_round_trip(flt: Filter) -> None:
    assert Filter.from_dict(flt.to_dict()) == flt


@given(st.text(), st.booleans(), hex64)
def test_relay_message_round_trip(text: str, accepted: bool, event_id: str) -> None:
    for message in (RelayOk(event_id, accepted, text), RelayNotice(text), RelayClosed("s", text)):
        assert parse_relay_message(message.to_json()) == message


@given(st.binary(max_size=200), st.sampled_from(["npub", "nsec", "note", "nevent", "x"]))
def test_bech32_round_trip(data: bytes, hrp: str) -> None:
    assert bech32.decode(bech32.encode(hrp, data)) == (hrp, data)


@given(
    st.from_regex(
        r"wss?://[a-z0-9]{1,10}(\.[a-z]{2,5})?(:[0-9]{1,5})?(/[a-z]{0,5})?", fullmatch=True
    )
)
def test_relay_url_normal_form_is_idempotent(url: str) -> None:
    try:
        normal = normalize_relay_url(url)
    except DecodeError:  # ports out of range are legitimately refused (and typed)
        return
    assert normalize_relay_url(normal) == normal


def test_now_constant_is_plausible() -> None:
    assert NOW > 1_600_000_000
