from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from nostr.errors import DecodeError, InvalidEvent, InvalidKey, InvalidSignature
from nostr.event import Event, UnsignedEvent, compact_json, compute_id, expiration_tag
from tests.helpers.nostr_factories import NOW, CountingRng, make_event, secret

PUBKEY = secret("alice").public_key().hex


def test_serialisation_escapes_like_serde_json() -> None:
    content = 'q"b\\s/n\nr\rt\tb\bf\fnul\x00us\x1fdel\x7f é 🦄 \u2028'
    text = compact_json([0, PUBKEY, 1, 1, [], content])
    expected_content = '"q\\"b\\\\s/n\\nr\\rt\\tb\\bf\\fnul\\u0000us\\u001fdel\x7f é 🦄 \u2028"'
    assert text == f'[0,"{PUBKEY}",1,1,[],{expected_content}]'


def test_id_is_sha256_of_the_canonical_array() -> None:
    tags = (("e", "x"), ("p", PUBKEY, "wss://r"))
    serial = f'[0,"{PUBKEY}",{NOW},1,[["e","x"],["p","{PUBKEY}","wss://r"]],"hi"]'
    assert compute_id(PUBKEY, NOW, 1, tags, "hi") == hashlib.sha256(serial.encode()).hexdigest()


def test_sign_then_verify() -> None:
    event = make_event(content="ok", tags=[["t", "x"]])
    event.verify()
    assert event.unsigned().id == event.id
    assert event.author == secret("alice").public_key()


def test_sign_refuses_a_foreign_key() -> None:
    unsigned = UnsignedEvent.create(PUBKEY, NOW, 1, "x")
    with pytest.raises(InvalidKey):
        unsigned.sign(secret("bob"))


@pytest.mark.parametrize(
    "change",
    [
        {"content": "tampered"},
        {"created_at": NOW + 1},
        {"kind": 2},
        {"tags": (("t", "y"),)},
        {"pubkey": secret("bob").public_key().hex},
    ],
)
def test_tampering_breaks_the_id(change: dict[str, object]) -> None:
    event = make_event(tags=[["t", "x"]])
    with pytest.raises(InvalidEvent) as info:
        replace(event, **change).verify()  # type: ignore[arg-type]
    assert info.value.event_id == event.id
    assert not isinstance(info.value, InvalidSignature)


def test_a_foreign_signature_is_an_invalid_signature() -> None:
    event = make_event()
    other = make_event("bob")
    forged = replace(event, sig=other.sig)
    with pytest.raises(InvalidSignature):
        forged.verify()
    # A consistent id under a key that did not sign it.
    moved = make_event("bob").unsigned()
    with pytest.raises(InvalidSignature):
        Event(moved.id, moved.pubkey, NOW, 1, (), "hello", event.sig).verify()


def test_off_curve_pubkey_fails_as_invalid_signature() -> None:
    unsigned = UnsignedEvent("00" * 32, NOW, 1, (), "x")
    with pytest.raises(InvalidSignature):
        Event(unsigned.id, unsigned.pubkey, NOW, 1, (), "x", "11" * 64).verify()


def test_lone_surrogate_is_invalid_not_a_crash() -> None:
    data = json.loads(make_event().to_json())
    data["content"] = "\ud800"
    event = Event.from_dict(data)
    with pytest.raises(InvalidEvent):
        event.verify()


def test_json_round_trip_and_field_order() -> None:
    event = make_event(tags=[["p", PUBKEY], ["e", "1", "", "root"]], content='a"b')
    text = event.to_json()
    assert list(json.loads(text)) == [
        "id",
        "pubkey",
        "created_at",
        "kind",
        "tags",
        "content",
        "sig",
    ]
    assert Event.from_json(text) == event
    assert Event.from_json(text.encode()) == event


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "AB" * 32),
        ("id", "ab" * 31),
        ("pubkey", "AB" * 32),
        ("sig", "ab" * 63),
        ("created_at", 1.5),
        ("created_at", -1),
        ("created_at", True),
        ("created_at", 2**64),
        ("kind", 70000),
        ("kind", "1"),
        ("kind", False),
        ("tags", [["p", 1]]),
        ("tags", ["p"]),
        ("tags", {"p": "x"}),
        ("content", None),
    ],
)
def test_malformed_fields_raise_decode_error(field: str, value: object) -> None:
    data = json.loads(make_event().to_json())
    data[field] = value
    with pytest.raises(DecodeError):
        Event.from_dict(data)


@pytest.mark.parametrize("text", ["", "[]", "nope", '{"id": 1}', "[1, 2]", '"x"'])
def test_not_an_event_object(text: str) -> None:
    with pytest.raises(DecodeError):
        Event.from_json(text)


def test_missing_field_raises_decode_error() -> None:
    data = json.loads(make_event().to_json())
    del data["sig"]
    with pytest.raises(DecodeError, match="sig"):
        Event.from_dict(data)


def test_rumor_json_has_id_and_no_sig() -> None:
    rumor = UnsignedEvent.create(PUBKEY, NOW, 14, "hi", [["p", PUBKEY]])
    data = json.loads(rumor.to_json())
    assert list(data) == ["id", "pubkey", "created_at", "kind", "tags", "content"]
    assert UnsignedEvent.from_json(rumor.to_json()) == rumor
    del data["id"]
    assert UnsignedEvent.from_dict(data).id == rumor.id
    data["id"] = "00" * 32
    with pytest.raises(InvalidEvent):
        UnsignedEvent.from_dict(data)


def test_make_tags_refuses_bare_strings() -> None:
    with pytest.raises(DecodeError):
        UnsignedEvent.create(PUBKEY, NOW, 1, "", ["p"])


def test_tag_helpers() -> None:
    event = make_event(tags=[["p", "a"], ["p", "b"], ["e"], ["d", "slot"]])
    assert event.tag_values("p") == ["a", "b"]
    assert event.first_tag_value("d") == "slot"
    assert event.first_tag_value("e") is None


def test_nip40_expiration() -> None:
    event = make_event(tags=[expiration_tag(NOW + 10)])
    assert event.expiration == NOW + 10
    assert not event.is_expired_at(NOW + 9)
    assert event.is_expired_at(NOW + 10)
    assert make_event().expiration is None
    assert not make_event().is_expired_at(2**40)
    assert make_event(tags=[["expiration", "soon"]]).expiration is None
    assert make_event(tags=[["expiration", "١٢"]]).expiration is None  # non-ASCII digits


def test_signatures_use_fresh_aux_randomness() -> None:
    unsigned = UnsignedEvent.create(PUBKEY, NOW, 1, "x")
    first = unsigned.sign(secret("alice"), rng=CountingRng("1"))
    second = unsigned.sign(secret("alice"), rng=CountingRng("2"))
    assert first.sig != second.sig
    first.verify()
    second.verify()
