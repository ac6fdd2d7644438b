"""Profile B app component codecs and the Marmot binary profile's QUIC varints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marmot.binary import BinaryError, Cursor, decode_varint, encode_varint
from marmot.profile_b.components import (
    AdminPolicy,
    BlobEndpoint,
    ComponentId,
    EncryptedMediaPolicy,
    GroupAvatarUrl,
    GroupBlossomImage,
    GroupLifecycle,
    GroupProfile,
    MessageRetention,
    NostrRouting,
    canonical_media_type,
    decode_component,
)
from marmot.profile_b.errors import InvalidComponent
from mls.messages import ComponentData
from tests.vectors import load_json, shared_path

pytestmark = pytest.mark.darkmatter

FIXTURES = "marmot-vectors/mdk/conformance-vectors/byte-fixtures"
FIXTURE_NAMES = sorted(
    p.name
    for p in Path(shared_path(*FIXTURES.split("/"))).glob("*.json")
    if p.name != "schema.v1.json"
)


# --- varints ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hex_"),
    [
        (0, "00"),
        (63, "3f"),
        (64, "4040"),
        (16383, "7fff"),
        (16384, "80004000"),
        (1073741823, "bfffffff"),
        (1073741824, "c000000040000000"),
        ((1 << 62) - 1, "ffffffffffffffff"),
        (151288809941952652, "c2197c5eff14e88c"),  # RFC 9000 appendix A.1
    ],
)
def test_varint_round_trips_at_every_width(value: int, hex_: str) -> None:
    assert encode_varint(value).hex() == hex_
    assert decode_varint(bytes.fromhex(hex_)) == (value, len(hex_) // 2)


@pytest.mark.parametrize("hex_", ["4025", "8000003f", "c00000000000003f", "c000000000004000"])
def test_varint_with_a_longer_prefix_than_needed_is_refused(hex_: str) -> None:
    with pytest.raises(BinaryError, match="non-canonical"):
        decode_varint(bytes.fromhex(hex_))


@pytest.mark.parametrize("hex_", ["", "40", "80ffff", "c0000000000000"])
def test_truncated_varint_is_refused(hex_: str) -> None:
    with pytest.raises(BinaryError):
        decode_varint(bytes.fromhex(hex_))


def test_varint_range_is_62_bits() -> None:
    with pytest.raises(BinaryError):
        encode_varint(1 << 62)
    with pytest.raises(BinaryError):
        encode_varint(-1)


def test_cursor_refuses_trailing_bytes_and_overlong_vectors() -> None:
    c = Cursor(bytes.fromhex("0261620000"))
    assert c.var_bytes(2) == b"ab"
    with pytest.raises(BinaryError, match="trailing"):
        c.finish()
    with pytest.raises(BinaryError, match="longer than 1"):
        Cursor(b"\x02ab").var_bytes(1)


# --- the MDK byte fixtures (Nostr routing 0x8004) ----------------------------------------------


def test_every_byte_fixture_is_run() -> None:
    assert FIXTURE_NAMES == [
        "nostr-routing-v1-invalid-duplicate-relay.v1.json",
        "nostr-routing-v1-valid-state.v1.json",
        "nostr-routing-v1-valid-update.v1.json",
    ]


@pytest.mark.vectors
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_routing_byte_fixture(name: str) -> None:
    fx: dict[str, Any] = load_json(f"{FIXTURES}/{name}")
    assert int(fx["component"]["id"], 16) == ComponentId.NOSTR_ROUTING
    raw = bytes.fromhex(fx["bytes"]["hex"])
    fields = fx["expected"]["fields"]
    if not fx["expected"]["valid"]:
        with pytest.raises(InvalidComponent) as info:
            decode_component(ComponentId.NOSTR_ROUTING, raw)
        assert [info.value.code] == fx["expected"]["errors"]
        return
    routing = decode_component(ComponentId.NOSTR_ROUTING, raw)
    assert isinstance(routing, NostrRouting)
    assert routing.nostr_group_id.hex() == fields["nostr_group_id_hex"]
    assert list(routing.relays) == fields["relays"]
    assert routing.encode() == raw
    rebuilt = NostrRouting.of(bytes.fromhex(fields["nostr_group_id_hex"]), fields["relays"][::-1])
    assert rebuilt.encode() == raw
    if "component_data_hex" in fx["bytes"]:
        entry = ComponentData(ComponentId.NOSTR_ROUTING, raw)
        assert entry.to_bytes().hex() == fx["bytes"]["component_data_hex"]


# --- routing rules beyond the fixtures ------------------------------------------------------

GID = bytes(range(32))


def test_routing_refuses_unsorted_relays_no_relays_and_bad_urls() -> None:
    good = NostrRouting.of(GID, ["wss://b.example", "wss://a.example"])
    assert NostrRouting.decode(good.encode()) == good
    unsorted = routing_bytes(["wss://b.example", "wss://a.example"])
    with pytest.raises(InvalidComponent) as info:
        NostrRouting.decode(unsorted)
    assert info.value.code == "unsorted_relays"
    with pytest.raises(InvalidComponent, match=r"1\.\.16"):
        NostrRouting.decode(GID + b"\x00")
    for bad in ["https://a.example", "wss://user:pw@a.example", "wss://a.example/#x", "wss://"]:
        with pytest.raises(InvalidComponent):
            NostrRouting.decode(routing_bytes([bad]))
    with pytest.raises(InvalidComponent, match=r"more than 16"):
        NostrRouting.decode(routing_bytes([f"wss://r{i:02}.example" for i in range(17)]))


def routing_bytes(relays: list[str]) -> bytes:
    inner = b"".join(encode_varint(len(r)) + r.encode() for r in relays)
    return GID + encode_varint(len(inner)) + inner


def test_routing_refuses_a_non_minimal_length_prefix() -> None:
    canonical = NostrRouting.of(GID, ["wss://a.example"]).encode()
    inner = canonical[33:]
    stretched = GID + bytes((0x40, len(inner))) + inner  # 2-byte prefix for a small length
    with pytest.raises(InvalidComponent, match="non-canonical"):
        NostrRouting.decode(stretched)


# --- the other components ---------------------------------------------------------------------


def test_group_profile_round_trip_and_bounds() -> None:
    p = GroupProfile("Team ☕", "desc")
    assert p.encode() == b"\x08Team \xe2\x98\x95\x04desc"
    assert GroupProfile.decode(p.encode()) == p
    assert GroupProfile().encode() == b"\x00\x00"
    with pytest.raises(InvalidComponent):
        GroupProfile("x" * 257)
    with pytest.raises(InvalidComponent, match="UTF-8"):
        GroupProfile.decode(b"\x01\xff\x00")
    with pytest.raises(InvalidComponent, match="trailing"):
        GroupProfile.decode(b"\x00\x00\x00")
    with pytest.raises(InvalidComponent, match="longer than 256"):
        GroupProfile.decode(encode_varint(257) + b"x" * 257 + b"\x00")


def test_admin_policy_sorted_unique_nonempty() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    policy = AdminPolicy.of([b, a, b])
    assert policy.admins == (a, b)
    assert policy.encode() == b"\x40\x40" + a + b
    assert AdminPolicy.decode(policy.encode()) == policy
    with pytest.raises(InvalidComponent) as info:
        AdminPolicy.decode(b"\x40\x40" + b + a)
    assert info.value.code == "unsorted"
    with pytest.raises(InvalidComponent) as info:
        AdminPolicy.decode(b"\x00")
    assert info.value.code == "no_admin"
    with pytest.raises(InvalidComponent):
        AdminPolicy.decode(b"\x21" + a + b"\x00")


def test_message_retention_is_eight_bytes() -> None:
    assert MessageRetention(86400).encode().hex() == "0000000000015180"
    assert MessageRetention.decode(bytes(8)) == MessageRetention(0)
    assert MessageRetention.decode(b"\xff" * 8).disappearing_message_secs == (1 << 64) - 1
    for bad in (b"", bytes(7), bytes(9)):
        with pytest.raises(InvalidComponent):
            MessageRetention.decode(bad)


def test_lifecycle_is_one_byte() -> None:
    assert GroupLifecycle.ACTIVE.encode() == b"\x00"
    assert GroupLifecycle.decode(b"\x01") is GroupLifecycle.DISBANDED
    for bad in (b"", b"\x02", b"\x00\x00"):
        with pytest.raises(InvalidComponent):
            GroupLifecycle.decode(bad)


def test_blossom_image_all_or_nothing_and_canonical_media_type() -> None:
    empty = GroupBlossomImage()
    assert empty.encode() == bytes(5)
    assert GroupBlossomImage.decode(bytes(5)) == empty
    img = GroupBlossomImage(b"h" * 32, b"k" * 32, b"n" * 12, b"u" * 32, "image/png")
    assert GroupBlossomImage.decode(img.encode()) == img
    assert "kkkk" not in repr(img)
    with pytest.raises(InvalidComponent) as info:
        GroupBlossomImage.decode(b"\x20" + b"h" * 32 + bytes(4))
    assert info.value.code == "partial_state"
    assert canonical_media_type(" Image/JPG ; q=1") == "image/jpeg"
    not_canonical = GroupBlossomImage(b"h" * 32, b"k" * 32, b"n" * 12, b"u" * 32, "image/PNG")
    raw = not_canonical.encode()[:-10] + b"\x09image/PNG"
    with pytest.raises(InvalidComponent, match="not canonical"):
        GroupBlossomImage.decode(raw)


def test_avatar_url_must_be_normalized_https() -> None:
    avatar = GroupAvatarUrl.of("HTTPS://Img.Example:443", b"640x480")
    assert avatar.url == "https://img.example/"
    assert GroupAvatarUrl.decode(avatar.encode()) == avatar
    assert GroupAvatarUrl.decode(bytes(3)) == GroupAvatarUrl()
    raw = (
        GroupAvatarUrl.of("https://img.example/").encode().replace(b"img.example/", b"IMG.example/")
    )
    with pytest.raises(InvalidComponent, match="normalized"):
        GroupAvatarUrl.decode(raw)
    for bad in ("http://img.example/", "https://u@img.example/", "https://img.example/#f"):
        with pytest.raises(InvalidComponent):
            GroupAvatarUrl.of(bad)
    with pytest.raises(InvalidComponent, match="absent"):
        GroupAvatarUrl.decode(b"\x00\x01x\x00")


def test_encrypted_media_policy_v1_and_v2() -> None:
    v2 = EncryptedMediaPolicy.blossom(2, ["https://blossom.example", "http://10.0.0.1:3000/"])
    assert v2.component_id == ComponentId.ENCRYPTED_MEDIA_V2
    raw = v2.encode()
    assert raw.startswith(b"\x12encrypted-media-v2")
    assert decode_component(ComponentId.ENCRYPTED_MEDIA_V2, raw) == v2
    with pytest.raises(InvalidComponent, match="does not match"):
        decode_component(ComponentId.ENCRYPTED_MEDIA_V1, raw)
    v1 = EncryptedMediaPolicy.blossom(1, ["https://blossom.example/"])
    assert EncryptedMediaPolicy.decode(v1.encode()) == v1
    for url in ("http://blossom.example/", "https://127.0.0.1/", "https://localhost/"):
        with pytest.raises(InvalidComponent):
            EncryptedMediaPolicy(1, ("blossom-v1",), (BlobEndpoint("blossom-v1", url),))
    EncryptedMediaPolicy(1, ("blossom-v1",), (BlobEndpoint("blossom-v1", "http://127.0.0.1/"),))
    with pytest.raises(InvalidComponent, match="query"):
        EncryptedMediaPolicy.blossom(2, ["https://b.example/?x=1"])
    with pytest.raises(InvalidComponent, match="not allowed"):
        EncryptedMediaPolicy(2, ("blossom-v1",), (BlobEndpoint("other", "https://b.example/"),))
    with pytest.raises(InvalidComponent, match="a-z"):
        EncryptedMediaPolicy(2, ("Blossom",), (BlobEndpoint("Blossom", "https://b.example/"),))


def test_decode_component_dispatches_and_refuses_unknown_ids() -> None:
    assert decode_component(ComponentId.GROUP_PROFILE, b"\x01a\x00") == GroupProfile("a")
    assert decode_component(ComponentId.GROUP_LIFECYCLE, b"\x00") is GroupLifecycle.ACTIVE
    with pytest.raises(InvalidComponent, match="no codec"):
        decode_component(ComponentId.AGENT_TEXT_STREAM_QUIC, b"")
