from __future__ import annotations

import json

import pytest

from nostr.errors import DecodeError, UsageError
from nostr.filters import Filter
from nostr.messages import (
    ClientAuth,
    ClientClose,
    ClientEvent,
    ClientReq,
    MachineReadablePrefix,
    RelayAuth,
    RelayClosed,
    RelayEose,
    RelayEvent,
    RelayNotice,
    RelayOk,
    parse_client_message,
    parse_prefix,
    parse_relay_message,
)
from tests.helpers.nostr_factories import NOW, make_event, secret

ALICE = secret("alice").public_key().hex
BOB = secret("bob").public_key().hex
EVENT = make_event(kind=445, tags=[["h", "group"], ["p", BOB]])


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter(), True),
        (Filter(ids={EVENT.id}), True),
        (Filter(ids=set()), False),
        (Filter(ids={"00" * 32}), False),
        (Filter(authors=[ALICE, BOB]), True),
        (Filter(authors=[BOB]), False),
        (Filter(kinds={445}), True),
        (Filter(kinds={1, 444}), False),
        (Filter(tags={"h": {"group"}}), True),
        (Filter(tags={"h": {"other"}}), False),
        (Filter(tags={"h": {"group"}, "p": {ALICE}}), False),
        (Filter(tags={"p": {ALICE, BOB}}), True),
        (Filter(tags={"e": {"x"}}), False),
        (Filter(since=NOW), True),
        (Filter(since=NOW + 1), False),
        (Filter(until=NOW), True),
        (Filter(until=NOW - 1), False),
        (Filter(kinds={445}, limit=0), True),
    ],
)
def test_filter_matches(flt: Filter, expected: bool) -> None:
    assert flt.matches(EVENT) is expected


def test_filter_json_is_sorted_and_round_trips() -> None:
    flt = Filter(
        authors=[BOB, ALICE], kinds=[445, 1], tags={"p": [BOB], "h": ["g"]}, since=5, limit=10
    )
    data = flt.to_dict()
    assert list(data) == ["authors", "kinds", "#h", "#p", "since", "limit"]
    assert data["authors"] == sorted([ALICE, BOB])
    assert Filter.from_dict(json.loads(json.dumps(data))) == flt
    assert hash(Filter.from_dict(data)) == hash(flt)
    assert Filter().to_dict() == {}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"ids": "ab"},
        {"ids": ["AB" * 32]},
        {"authors": [1]},
        {"kinds": [70000]},
        {"kinds": [[1]]},
        {"kinds": ["1"]},
        {"#p": "x"},
        {"#p": [1]},
        {"#p": [["x"]]},
        {"since": -1},
        {"until": 1.5},
        {"limit": -2},
        {"search": 3},
    ],
)
def test_bad_filters_raise_decode_error(data: object) -> None:
    with pytest.raises(DecodeError):
        Filter.from_dict(data)


def test_filter_ignores_unknown_keys_and_bad_tag_letters_in_code() -> None:
    assert Filter.from_dict({"kinds": [1], "#pp": ["x"], "x": 1}) == Filter(kinds={1})
    with pytest.raises(DecodeError):
        Filter(tags={"pp": {"x"}})
    with pytest.raises(DecodeError):
        Filter(kinds="1")  # type: ignore[arg-type]


def test_client_messages_round_trip() -> None:
    messages = [
        ClientEvent(EVENT),
        ClientReq("sub", (Filter(kinds={1}), Filter(tags={"h": {"g"}}))),
        ClientClose("sub"),
        ClientAuth(EVENT),
    ]
    for message in messages:
        assert parse_client_message(message.to_json()) == message
    assert ClientClose("s").to_json() == '["CLOSE","s"]'
    assert ClientReq("s", (Filter(kinds={1}),)).to_json() == '["REQ","s",{"kinds":[1]}]'


def test_client_req_validates() -> None:
    with pytest.raises(UsageError):
        ClientReq("", (Filter(),))
    with pytest.raises(UsageError):
        ClientReq("x" * 65, (Filter(),))
    with pytest.raises(UsageError):
        ClientReq("s", ())
    with pytest.raises(DecodeError):
        parse_client_message('["REQ","s"]')


def test_relay_messages_round_trip() -> None:
    messages = [
        RelayEvent("sub", EVENT),
        RelayOk(EVENT.id, True, ""),
        RelayOk(EVENT.id, False, "rate-limited: slow down"),
        RelayEose("sub"),
        RelayClosed("sub", "auth-required: you must auth"),
        RelayNotice("hello"),
        RelayAuth("challenge"),
    ]
    for message in messages:
        assert parse_relay_message(message.to_json()) == message


def test_ok_message_may_omit_its_text() -> None:
    assert parse_relay_message(f'["OK","{EVENT.id}",true]') == RelayOk(EVENT.id, True, "")


@pytest.mark.parametrize(
    ("message", "prefix"),
    [
        ("rate-limited: slow down", MachineReadablePrefix.RATE_LIMITED),
        ("auth-required: you must auth", MachineReadablePrefix.AUTH_REQUIRED),
        ("duplicate: have it", MachineReadablePrefix.DUPLICATE),
        ("invalid: bad", MachineReadablePrefix.INVALID),
        ("error:x", MachineReadablePrefix.ERROR),
        ("", None),
        ("no prefix here", None),
        ("weird: prefix", None),
    ],
)
def test_prefix(message: str, prefix: MachineReadablePrefix | None) -> None:
    assert parse_prefix(message) is prefix
    assert RelayOk(EVENT.id, False, message).prefix is prefix
    assert RelayClosed("s", message).prefix is prefix


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{}",
        "[]",
        "[1]",
        '["PING"]',
        '["EVENT"]',
        '["EVENT","s"]',
        '["EVENT","s",[]]',
        '["EVENT",1,{}]',
        '["EVENT","s",{"id":"x"}]',
        '["OK"]',
        '["OK","xyz",true,""]',
        f'["OK","{EVENT.id}","true",""]',
        f'["OK","{EVENT.id}",true,5]',
        '["EOSE"]',
        '["EOSE",5]',
        '["CLOSED"]',
        '["NOTICE"]',
        '["NOTICE",{}]',
        '["AUTH"]',
        '["AUTH",null]',
        "[" * 100_000,
    ],
)
def test_malformed_relay_messages_raise_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_relay_message(text)
