"""Profile B on Nostr: 30443 KeyPackage events, 445 group events, 444 welcome rumors, and
the app payload kinds (9, 7, 5, 1009, 1210)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from marmot.group_event import open_content
from marmot.primitives import b64encode
from marmot.profile_b.errors import InvalidKeyPackage, InvalidPayload, InvalidTransportEvent
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event, parse_key_package_event_b
from marmot.profile_b.payloads import (
    PayloadKind,
    SystemType,
    decode_app_event,
    encode_app_event,
    latest_edit,
    parse_system_content,
    system_row,
)
from marmot.profile_b.transport import (
    app_message_expiration,
    build_group_event_b,
    check_group_event_b,
    parse_welcome_rumor_b,
    welcome_rumor_b,
)
from mls.messages import MLSMessage
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from tests.helpers.mls_members import Members, seeded_rng

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE = SecretKey(bytes([3]) * 32)
BOB = SecretKey(bytes([4]) * 32)
GID = bytes(range(32))
KEY = bytes([9]) * 32


def _kp_event(**changes: object) -> Event:
    bundle = create_key_package_b(ALICE, now=NOW, rng=seeded_rng(1))
    unsigned = key_package_event(
        bundle.key_package, ALICE.public_key(), created_at=NOW, rng=seeded_rng(2)
    )
    if changes:
        unsigned = dataclasses.replace(unsigned, **changes)  # type: ignore[arg-type]
    return unsigned.sign(ALICE, rng=seeded_rng(3))


def _retag(event: Event, tags: list[list[str]]) -> Event:
    unsigned = UnsignedEvent.create(event.pubkey, event.created_at, event.kind, event.content, tags)
    return unsigned.sign(ALICE, rng=seeded_rng(4))


# --- 30443 ---------------------------------------------------------------------------------


def test_key_package_event_has_mdks_tags_and_parses() -> None:
    event = _kp_event()
    names = [t[0] for t in event.tags]
    assert names == [
        "d",
        "mls_protocol_version",
        "i",
        "mls_ciphersuite",
        "mls_extensions",
        "mls_proposals",
        "app_components",
    ]
    tags = {t[0]: list(t[1:]) for t in event.tags}
    assert tags["mls_extensions"] == ["0x0006"]
    assert tags["mls_proposals"] == ["0x0008", "0x000a"]
    assert tags["app_components"] == [  # MDK master's app set, 0x8001..0x800c but 0x800a
        "0x8001", "0x8002", "0x8003", "0x8004", "0x8005", "0x8006",
        "0x8007", "0x8008", "0x8009", "0x800b", "0x800c",
    ]  # fmt: skip
    assert event.kind == 30443 and len(tags["d"][0]) == 64
    parsed = parse_key_package_event_b(event, now=NOW)
    assert parsed.ref.hex() == tags["i"][0]
    assert parsed.author == ALICE.public_key()
    assert MLSMessage(parsed.key_package).to_bytes()[:4] == bytes.fromhex("00010005")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda tags: [t for t in tags if t[0] != "d"], "missing d"),
        (lambda tags: [*tags, ["mls_extensions", "0x0006"]], "more than one mls_extensions"),
        (
            lambda tags: [
                t if t[0] != "mls_extensions" else ["mls_extensions", "0x0006", "0xf2f1"]
                for t in tags
            ],
            "mls_extensions",
        ),
        (
            lambda tags: [
                t
                if t[0] != "app_components"
                else ["app_components", "0x8001", "0x8001", "0x8003", "0x8009", "0x800c"]
                for t in tags
            ],
            "app_components",
        ),
        (lambda tags: [t if t[0] != "i" else ["i", "00" * 32] for t in tags], "KeyPackageRef"),
        (
            lambda tags: [
                t if t[0] != "mls_protocol_version" else ["mls_protocol_version", "1"] for t in tags
            ],
            "1.0",
        ),
        (
            lambda tags: [
                t if t[0] != "mls_ciphersuite" else ["mls_ciphersuite", "0x0002"] for t in tags
            ],
            "ciphersuite",
        ),
    ],
)
def test_key_package_event_tag_rules(mutate: object, reason: str) -> None:
    event = _kp_event()
    bad = _retag(event, mutate([list(t) for t in event.tags]))  # type: ignore[operator]
    with pytest.raises(InvalidKeyPackage, match=reason):
        parse_key_package_event_b(bad, now=NOW)


def test_key_package_event_of_someone_else_or_bare_content_is_refused() -> None:
    event = _kp_event()
    theirs = UnsignedEvent.create(BOB.public_key(), NOW, 30443, event.content, event.tags).sign(
        BOB, rng=seeded_rng(5)
    )
    with pytest.raises(InvalidKeyPackage, match="author"):
        parse_key_package_event_b(theirs, now=NOW)
    bundle = create_key_package_b(ALICE, now=NOW, rng=seeded_rng(1))
    bare = UnsignedEvent.create(
        ALICE.public_key(), NOW, 30443, b64encode(bundle.key_package.to_bytes()), event.tags
    ).sign(ALICE, rng=seeded_rng(6))
    with pytest.raises(InvalidKeyPackage, match="MLSMessage"):
        parse_key_package_event_b(bare, now=NOW)
    with pytest.raises(InvalidKeyPackage, match="does not cover"):
        parse_key_package_event_b(event, now=NOW + 100 * 86400)
    forged = Event(
        event.id, event.pubkey, event.created_at, event.kind, event.tags, event.content, "00" * 64
    )
    with pytest.raises(InvalidKeyPackage, match="bad event"):
        parse_key_package_event_b(forged, now=NOW)


# --- 445 -------------------------------------------------------------------------------------


def test_group_event_round_trip_without_encoding_tag() -> None:
    event = build_group_event_b(GID, b"mls bytes", KEY, created_at=NOW, rng=seeded_rng(7))
    assert [t[0] for t in event.tags] == ["h"]
    gid, payload = check_group_event_b(event)
    assert gid == GID and open_content(KEY, payload) == b"mls bytes"
    other = build_group_event_b(GID, b"x", KEY, created_at=NOW, rng=seeded_rng(8))
    assert other.pubkey != event.pubkey  # a fresh key per event
    expiring = build_group_event_b(
        GID, b"x", KEY, created_at=NOW, expiration=NOW + 60, rng=seeded_rng(9)
    )
    assert check_group_event_b(expiring)[0] == GID


def _signed_445(tags: list[list[str]], content: str) -> Event:
    one_time = SecretKey(bytes([11]) * 32)
    return UnsignedEvent.create(one_time.public_key(), NOW, 445, content, tags).sign(
        one_time, rng=seeded_rng(10)
    )


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ([["h", GID.hex()], ["encoding", "base64"]], "may not carry"),
        ([["h", GID.hex()], ["h", GID.hex()]], "one h tag"),
        ([], "one h tag"),
        ([["h", GID.hex().upper()]], "lowercase"),
        ([["h", GID.hex()], ["expiration", "1"], ["expiration", "2"]], "at most one expiration"),
    ],
)
def test_group_event_tag_rules(tags: list[list[str]], reason: str) -> None:
    content = build_group_event_b(GID, b"x", KEY, created_at=NOW, rng=seeded_rng(7)).content
    with pytest.raises(InvalidTransportEvent, match=reason):
        check_group_event_b(_signed_445(tags, content))


def test_group_event_content_and_signature_rules() -> None:
    with pytest.raises(InvalidTransportEvent, match="too short"):
        check_group_event_b(_signed_445([["h", GID.hex()]], b64encode(bytes(27))))
    with pytest.raises(InvalidTransportEvent, match="base64"):
        check_group_event_b(_signed_445([["h", GID.hex()]], "!!"))
    good = build_group_event_b(GID, b"x", KEY, created_at=NOW, rng=seeded_rng(7))
    forged = Event(
        good.id, good.pubkey, good.created_at, good.kind, good.tags, good.content, "00" * 64
    )
    with pytest.raises(InvalidTransportEvent, match="bad 445"):
        check_group_event_b(forged)


def test_app_message_expiration_follows_retention() -> None:
    assert app_message_expiration(NOW, 0) is None
    assert app_message_expiration(NOW, 60) == NOW + 60
    assert app_message_expiration(1 << 62, 1 << 62) is None


# --- 444 -------------------------------------------------------------------------------------


def _welcome() -> MLSMessage:
    group = Members.create(["a"], seed=3)
    pending = group.add("a", ["b"])
    assert pending.welcome is not None
    return pending.welcome


def test_welcome_rumor_round_trip() -> None:
    welcome = _welcome().body
    rumor = welcome_rumor_b(
        ALICE.public_key(), welcome, "ab" * 32, ["wss://r.example"], created_at=NOW
    )  # type: ignore[arg-type]
    assert [t[0] for t in rumor.tags] == ["e", "relays"]
    parsed = parse_welcome_rumor_b(rumor)
    assert parsed.key_package_event_id == "ab" * 32
    assert parsed.relays == ("wss://r.example",)
    assert parsed.welcome == welcome


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ([["relays", "wss://r.example"]], "one e tag"),
        ([["e", "ab" * 32], ["e", "ab" * 32], ["relays", "wss://r.example"]], "one e tag"),
        ([["e", "ab" * 31], ["relays", "wss://r.example"]], "32-byte"),
        ([["e", "ab" * 32]], "one relays"),
        ([["e", "ab" * 32], ["relays"]], "1..16"),
        ([["e", "ab" * 32], ["relays", "https://r.example"]], "wss"),
        ([["e", "ab" * 32], ["relays", *[f"wss://r{i}.example" for i in range(17)]]], "1..16"),
    ],
)
def test_welcome_rumor_tag_rules(tags: list[list[str]], reason: str) -> None:
    content = b64encode(_welcome().to_bytes())
    rumor = UnsignedEvent.create(ALICE.public_key(), NOW, 444, content, tags)
    with pytest.raises(InvalidTransportEvent, match=reason):
        parse_welcome_rumor_b(rumor)


def test_welcome_rumor_content_must_be_a_framed_welcome() -> None:
    tags = [["e", "ab" * 32], ["relays", "wss://r.example"]]
    for content in ("!!", b64encode(_welcome().body.to_bytes())):
        with pytest.raises(InvalidTransportEvent, match="MLSMessage"):
            parse_welcome_rumor_b(UnsignedEvent.create(ALICE.public_key(), NOW, 444, content, tags))


# --- payloads ------------------------------------------------------------------------------


def _payload(
    kind: int, content: str = "hi", tags: tuple[tuple[str, ...], ...] = (), at: int = NOW
) -> UnsignedEvent:
    return UnsignedEvent.create(ALICE.public_key(), at, kind, content, tags)


def test_chat_payload_round_trip_and_sender_binding() -> None:
    chat = _payload(PayloadKind.CHAT)
    raw = encode_app_event(chat)
    assert decode_app_event(raw, ALICE.public_key().data) == chat
    with pytest.raises(InvalidPayload, match="not the MLS sender"):
        decode_app_event(raw, BOB.public_key().data)


def test_payload_member_rules() -> None:
    base = json.loads(encode_app_event(_payload(PayloadKind.CHAT)))
    alice = ALICE.public_key().data
    with pytest.raises(InvalidPayload, match="signed"):
        decode_app_event(json.dumps({**base, "sig": "00" * 64}).encode(), alice)
    with pytest.raises(InvalidPayload, match="exactly"):
        decode_app_event(json.dumps({**base, "v": 1}).encode(), alice)
    with pytest.raises(InvalidPayload, match="exactly"):
        decode_app_event(json.dumps({k: v for k, v in base.items() if k != "id"}).encode(), alice)
    with pytest.raises(InvalidPayload, match="invalid"):
        decode_app_event(json.dumps({**base, "content": "changed"}).encode(), alice)
    doubled = encode_app_event(_payload(PayloadKind.CHAT))[:-1] + b',"content":"x"}'
    with pytest.raises(InvalidPayload, match="repeats"):
        decode_app_event(doubled, alice)
    with pytest.raises(InvalidPayload, match="JSON"):
        decode_app_event(b"\xff", alice)


def test_reaction_deletion_and_edit_need_their_e_tags() -> None:
    alice = ALICE.public_key().data
    for kind in (PayloadKind.REACTION, PayloadKind.DELETION, PayloadKind.EDIT):
        with pytest.raises(InvalidPayload, match=r"e tag|edited event"):
            decode_app_event(encode_app_event(_payload(kind)), alice)
    two = (("e", "aa" * 32), ("e", "bb" * 32))
    with pytest.raises(InvalidPayload, match="exactly one"):
        decode_app_event(encode_app_event(_payload(PayloadKind.EDIT, tags=two)), alice)
    decode_app_event(
        encode_app_event(_payload(PayloadKind.REACTION, "+", (("e", "aa" * 32),))), alice
    )


def test_latest_edit_is_the_authors_newest() -> None:
    original = _payload(PayloadKind.CHAT, "first")
    ref = (("e", original.id),)
    e1 = _payload(PayloadKind.EDIT, "second", ref, NOW + 1)
    e2 = _payload(PayloadKind.EDIT, "third", ref, NOW + 2)
    stranger = UnsignedEvent.create(BOB.public_key(), NOW + 3, PayloadKind.EDIT, "bob's", ref)
    elsewhere = _payload(PayloadKind.EDIT, "other", (("e", "cc" * 32),), NOW + 4)
    assert latest_edit(original, [e2, stranger, e1, elsewhere]) == e2
    assert latest_edit(original, [stranger]) is None


PINNED_SYSTEM_IDS = {  # MDK 0.9 traits/app_event.rs pins these for group 22..22, epoch 3
    SystemType.MEMBER_ADDED: "71b369c949fcb272ef975b2969b2efb426143bc70fe8e1c9c56f6c7f6cde4495",
    SystemType.MEMBER_REMOVED: "ec9c74bcfc1d543c9498c385c102dea2ebe55c7eaa6fc00f7f3ba6e97324b8eb",
    SystemType.MEMBER_LEFT: "dcc38e2561ad0a495aa40e9486d2babe7db08d1aa7d4dd45a2ffc9d9dfef6cd6",
    SystemType.ADMIN_ADDED: "54cb4ff424fea5a914d07ad0df99493709cb384834631f5f0c61cf047fddf306",
    SystemType.ADMIN_REMOVED: "5ce9dbac3ea01eeefd8d735ac691595f8f772e9f882fb9857c3fa28f296b2c5b",
    SystemType.GROUP_RENAMED: "f6015ee8d6088f23d679bbc3e85ce02d43af85fed350cecca3d11adf5077b883",
    SystemType.GROUP_AVATAR_CHANGED: (
        "db1158ef961902a3f979dc2d8cdf2aba51b1d2568b83e12820490b853188dc40"
    ),
    SystemType.DISAPPEARING_TIMER_CHANGED: (
        "94c4a1dfc205b1cb52ec17e29d5a33a007a0769046356aaab47edc49bb909b66"
    ),
}


@pytest.mark.vectors
@pytest.mark.parametrize("system_type", list(PINNED_SYSTEM_IDS))
def test_system_row_ids_match_the_reference(system_type: SystemType) -> None:
    group, member, actor = b"\x22" * 32, b"\xbb" * 32, b"\xaa" * 32
    extra: dict[str, object] = {}
    who = actor
    if system_type in (
        SystemType.MEMBER_ADDED,
        SystemType.MEMBER_REMOVED,
        SystemType.ADMIN_ADDED,
        SystemType.ADMIN_REMOVED,
    ):
        extra["subject"] = member
    if system_type is SystemType.MEMBER_LEFT:
        extra["subject"], who = member, member
    if system_type is SystemType.GROUP_RENAMED:
        extra["name"] = "Team"
    if system_type is SystemType.DISAPPEARING_TIMER_CHANGED:
        extra.update(old_retention_secs=0, new_retention_secs=60)
    row = system_row(group, 3, who, system_type, **extra)  # type: ignore[arg-type]
    assert row.message_id == PINNED_SYSTEM_IDS[system_type]
    assert row.tags == (("system", system_type.value),)
    kind, data = parse_system_content(row.content)
    assert kind is system_type and data["actor"] == who.hex()


def test_system_row_rules() -> None:
    with pytest.raises(InvalidPayload, match="actor"):
        system_row(b"\x22" * 32, 1, None, SystemType.GROUP_DISBANDED)
    row = system_row(
        b"\x22" * 32, 1, b"\xaa" * 32, SystemType.GROUP_RENAMED, name="N", old_name="O"
    )
    assert json.loads(row.content) == {
        "v": 1,
        "system_type": "group_renamed",
        "text": "Group renamed",
        "data": {"actor": "aa" * 32, "name": "N", "old_name": "O"},
    }
    assert parse_system_content('{"v":1,"system_type":"future_thing","text":"x"}') == (None, {})
    for bad in ("[]", '{"v":2,"system_type":"x"}', "nope", '{"v":1,"system_type":"x","data":[]}'):
        with pytest.raises(InvalidPayload):
            parse_system_content(bad)
