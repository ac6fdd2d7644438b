"""Relay lists (NIP-65, 10050, 10051), NIP-09, kind 0, kind 3, NIP-42, relay URLs, backoff."""

from __future__ import annotations

import pytest

from nostr import nip09, nip42
from nostr.backoff import Backoff
from nostr.errors import DecodeError, InvalidEvent, UsageError
from nostr.event import UnsignedEvent
from nostr.kinds import Kind, is_addressable, is_ephemeral, is_regular, is_replaceable
from nostr.metadata import (
    Contact,
    Metadata,
    follow_list_event,
    metadata_event,
    parse_follow_list,
    parse_metadata,
)
from nostr.relay_lists import (
    RelayListEntry,
    inbox_relays_event,
    key_package_relays_event,
    parse_relay_list,
    parse_relay_tags,
    read_relays,
    relay_list_event,
    write_relays,
)
from nostr.relay_url import is_relay_url, normalize_relay_url
from tests.helpers.nostr_factories import NOW, make_event, secret

ALICE = secret("alice")
PUB = ALICE.public_key()


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("wss://relay.example.com", "wss://relay.example.com"),
        ("WSS://Relay.Example.COM/", "wss://relay.example.com/"),
        ("wss://relay.example.com:443", "wss://relay.example.com"),
        ("ws://relay.example.com:80/x", "ws://relay.example.com/x"),
        ("ws://127.0.0.1:7777", "ws://127.0.0.1:7777"),
        ("wss://r.x/path/?q=A", "wss://r.x/path/?q=A"),
        ("ws://[::1]:8080", "ws://[::1]:8080"),
    ],
)
def test_relay_url_normal_form(url: str, normal: str) -> None:
    assert normalize_relay_url(url) == normal
    assert normalize_relay_url(normal) == normal


@pytest.mark.parametrize(
    "url",
    [
        "https://relay.example.com",
        "relay.example.com",
        "wss://",
        "wss://user@relay.example.com",
        "wss://relay.example.com:0",
        "wss://relay.example.com:99999",
        "wss://relay.example.com:abc",
        "wss://rélay.example.com",
        "wss://relay example.com",
        "wss://-bad-.com",
    ],
)
def test_bad_relay_urls(url: str) -> None:
    assert not is_relay_url(url)
    with pytest.raises(DecodeError):
        normalize_relay_url(url)


def test_nip65_relay_list_round_trip() -> None:
    entries = [
        RelayListEntry("wss://both.example"),
        RelayListEntry("wss://read.example", write=False),
        RelayListEntry("wss://write.example", read=False),
    ]
    event = relay_list_event(PUB, entries, created_at=NOW)
    assert event.kind == Kind.RELAY_LIST
    assert event.tags == (
        ("r", "wss://both.example"),
        ("r", "wss://read.example", "read"),
        ("r", "wss://write.example", "write"),
    )
    parsed = parse_relay_list(event)
    assert parsed == tuple(entries)
    assert read_relays(parsed) == ("wss://both.example", "wss://read.example")
    assert write_relays(parsed) == ("wss://both.example", "wss://write.example")
    with pytest.raises(UsageError):
        RelayListEntry("wss://x", read=False, write=False)


def test_nip65_parsing_is_forgiving() -> None:
    tags = [
        ["r", "wss://a.example"],
        ["r", "not a url"],
        ["r", "wss://A.example/"],
        ["r", "wss://a.example", "read"],
        ["r", "wss://b.example", "sometimes"],
        ["r"],
        ["relay", "wss://c.example"],
    ]
    event = UnsignedEvent.create(PUB, NOW, Kind.RELAY_LIST, "", tags)
    assert parse_relay_list(event) == (
        RelayListEntry("wss://a.example"),
        RelayListEntry("wss://a.example/"),
    )
    with pytest.raises(DecodeError):
        parse_relay_list(make_event(kind=1))


def test_inbox_and_key_package_relay_lists() -> None:
    urls = ["wss://inbox.example", "wss://INBOX.example", "wss://two.example"]
    inbox = inbox_relays_event(PUB, urls, created_at=NOW)
    assert inbox.kind == 10050
    assert inbox.tags == (("relay", "wss://inbox.example"), ("relay", "wss://two.example"))
    assert parse_relay_tags(inbox) == ("wss://inbox.example", "wss://two.example")
    kp = key_package_relays_event(PUB.hex, ["wss://kp.example"], created_at=NOW)
    assert kp.kind == 10051
    assert parse_relay_tags(kp) == ("wss://kp.example",)
    junk = UnsignedEvent.create(PUB, NOW, 10050, "", [["relay", "http://x"], ["relay"]])
    assert parse_relay_tags(junk) == ()
    with pytest.raises(DecodeError):
        parse_relay_tags(make_event(kind=10002))


def test_nip09_deletion_by_id_and_address() -> None:
    note = make_event(kind=1, created_at=NOW)
    kp_old = make_event(kind=30443, tags=[["d", "slot"]], created_at=NOW - 5)
    kp_new = make_event(kind=30443, tags=[["d", "slot"]], created_at=NOW + 5, content="new")
    address = nip09.coordinate_of(kp_old)
    assert address == f"30443:{PUB.hex}:slot"
    request = nip09.deletion_event(
        PUB, created_at=NOW, event_ids=[note.id], coordinates=[address], kinds=[1, 30443, 1]
    ).sign(ALICE)
    assert request.kind == Kind.DELETION
    assert request.tag_values("k") == ["1", "30443"]
    deletion = nip09.parse_deletion(request)
    assert deletion.deletes(note)
    assert deletion.deletes(kp_old)
    assert not deletion.deletes(kp_new)  # newer than the request
    assert not deletion.deletes(make_event("bob", kind=1))  # someone else's
    assert nip09.coordinate_of(make_event(kind=10002)) == f"10002:{PUB.hex}:"
    assert nip09.coordinate_of(note) is None
    with pytest.raises(DecodeError):
        nip09.deletion_event(PUB, created_at=NOW)
    with pytest.raises(DecodeError):
        nip09.parse_deletion(note)


def test_kind0_metadata_round_trip_keeps_unknown_fields() -> None:
    meta = Metadata(name="alice", about="hi", extra={"bot": False})
    event = metadata_event(PUB, meta, created_at=NOW)
    assert event.kind == Kind.METADATA
    parsed = parse_metadata(event)
    assert parsed == meta
    assert parsed.extra["bot"] is False
    lenient = Metadata.from_content('{"name": 5, "display_name": "A", "x": [1]}')
    assert lenient.name is None
    assert lenient.display_name == "A"
    assert dict(lenient.extra) == {"x": [1]}
    for bad in ("nope", "[1]"):
        with pytest.raises(DecodeError):
            Metadata.from_content(bad)


def test_kind3_follow_list_round_trip() -> None:
    bob, carol = secret("bob").public_key().hex, secret("carol").public_key().hex
    contacts = [
        Contact(bob),
        Contact(carol, "wss://r.example", "carol"),
        Contact(PUB.hex, None, "me"),
    ]
    event = follow_list_event(PUB, contacts, created_at=NOW)
    assert event.kind == Kind.FOLLOW_LIST
    assert event.tags[2] == ("p", PUB.hex, "", "me")
    assert parse_follow_list(event) == tuple(contacts)
    junk = UnsignedEvent.create(PUB, NOW, 3, "", [["p", "xyz"], ["p", bob], ["p", bob, "wss://x"]])
    assert parse_follow_list(junk) == (Contact(bob),)


def test_nip42_auth_event_and_relay_side_check() -> None:
    url = "ws://127.0.0.1:7777"
    event = nip42.auth_event(PUB, url, "c1", created_at=NOW).sign(ALICE)
    assert event.kind == Kind.CLIENT_AUTH
    assert event.tags == (("relay", url), ("challenge", "c1"))
    nip42.check_auth_event(event, relay_url=url + "/", challenge="c1", now=NOW + 100)
    failures = [
        {"relay_url": url, "challenge": "c2", "now": NOW},
        {"relay_url": "ws://127.0.0.1:7778", "challenge": "c1", "now": NOW},
        {"relay_url": url, "challenge": "c1", "now": NOW + 601},
    ]
    for kwargs in failures:
        with pytest.raises(InvalidEvent):
            nip42.check_auth_event(event, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent):
        nip42.check_auth_event(make_event(kind=1), relay_url=url, challenge="c1", now=NOW)
    bad_url = nip42.auth_event(PUB, "not a url", "c1", created_at=NOW).sign(ALICE)
    with pytest.raises(InvalidEvent):
        nip42.check_auth_event(bad_url, relay_url=url, challenge="c1", now=NOW)


def test_kind_ranges() -> None:
    assert is_replaceable(0) and is_replaceable(3) and is_replaceable(10050)
    assert is_ephemeral(22242) and not is_regular(22242)
    assert is_addressable(30443) and not is_replaceable(30443)
    assert is_regular(445) and is_regular(1059) and is_regular(1)


def test_backoff_schedule() -> None:
    backoff = Backoff(base=0.5, factor=2, cap=8, jitter=0.5)
    assert [backoff.ceiling(n) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert backoff.delay(3, 0.0) == 4
    assert backoff.delay(3, 0.999) == pytest.approx(2.002)
    assert backoff.ceiling(10_000) == 8
    assert Backoff(jitter=0).delay(1, 0.7) == 1.0
    for bad in (
        {"base": 0},
        {"factor": 0.5},
        {"cap": 0.1},
        {"jitter": 1.5},
    ):
        with pytest.raises(UsageError):
            Backoff(**bad)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        backoff.delay(0, 1.0)
    with pytest.raises(UsageError):
        backoff.ceiling(-1)
