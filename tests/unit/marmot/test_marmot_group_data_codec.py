"""MIP-01 ``marmot_group_data`` codec, validation and group creation parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marmot.errors import InvalidGroupData, UsageError
from marmot.group_data import (
    NostrGroupData,
    group_context_extensions,
    new_mls_group_id,
    required_capabilities,
    validate_group_members,
)
from mls.codec import Writer
from mls.messages import Extension, ExtensionType, RequiredCapabilities
from tests.helpers.marmot_factories import key_package, legacy_key_package
from tests.helpers.nostr_factories import CountingRng

GID = bytes(range(32))
ADMIN = b"\xaa" * 32


def _raw(
    version: int = 2,
    *,
    name: bytes = b"n",
    description: bytes = b"",
    admins: bytes = ADMIN,
    relays: tuple[bytes, ...] = (b"wss://r.example",),
    images: tuple[bytes, bytes, bytes, bytes] = (b"", b"", b"", b""),
    disappearing: bytes | None = None,
    trailing: bytes = b"",
) -> bytes:
    """Hand-assembled extension bytes, independent of the codec under test."""
    w = Writer()
    w.u16(version)
    w.fixed(GID)
    w.opaque(name)
    w.opaque(description)
    w.opaque(admins)
    w.vector(relays, Writer.opaque)
    for item in images:
        w.opaque(item)
    if disappearing is not None:
        w.opaque(disappearing)
    return w.getvalue() + trailing


def test_valid_v2_decodes() -> None:
    data = NostrGroupData.from_bytes(_raw())
    assert data.version == 2
    assert data.name == "n"
    assert data.admins == (ADMIN,)
    assert data.relays == ("wss://r.example",)
    assert data.to_bytes() == _raw()


def test_v1_keeps_its_version_and_layout() -> None:
    data = NostrGroupData.from_bytes(_raw(1))
    assert data.version == 1
    assert data.to_bytes() == _raw(1)


def test_v3_with_timer_and_all_image_fields() -> None:
    images = (b"\x01" * 32, b"\x02" * 32, b"\x03" * 12, b"\x04" * 32)
    raw = _raw(3, images=images, disappearing=(3600).to_bytes(8, "big"))
    data = NostrGroupData.from_bytes(raw)
    assert data.disappearing_message_secs == 3600
    assert (data.image_hash, data.image_key, data.image_nonce, data.image_upload_key) == images
    assert data.to_bytes() == raw


def test_v3_without_timer_is_rewritten_as_v2() -> None:
    data = NostrGroupData.from_bytes(_raw(3, disappearing=b""))
    assert data.disappearing_message_secs is None
    assert data.to_bytes() == _raw(2)


def test_later_versions_are_read_forward_compatibly() -> None:
    raw = _raw(7, disappearing=(60).to_bytes(8, "big"), trailing=b"\x05future")
    data = NostrGroupData.from_bytes(raw)
    assert data.version == 7
    assert data.disappearing_message_secs == 60
    assert data.to_bytes()[:2] == b"\x00\x03"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_raw(0), "version 0"),
        (_raw()[:-1], "truncated"),
        (_raw()[:20], "truncated"),
        (_raw(trailing=b"\x00"), "trailing"),
        (_raw(1, trailing=b"\x00"), "trailing"),
        (_raw(3, disappearing=b"", trailing=b"\x00"), "trailing"),
        (_raw(2, disappearing=b""), "trailing"),  # v2 has no 11th field
        (_raw(3), "truncated"),  # v3 needs its 11th field
        (_raw(name=b"\xff"), "UTF-8"),
        (_raw(description=b"\xc3"), "UTF-8"),
        (_raw(relays=(b"wss://\xff",)), "UTF-8"),
        (_raw(admins=b"\xaa" * 31), "32-byte"),
        (_raw(admins=b"\xaa" * 33), "32-byte"),
        (_raw(relays=(b"https://r.example",)), "relay"),
        (_raw(relays=(b"",)), "relay"),
        (_raw(images=(b"\x01" * 16, b"", b"", b"")), "image_hash"),
        (_raw(images=(b"", b"\x01" * 31, b"", b"")), "image_key"),
        (_raw(images=(b"", b"", b"\x01" * 32, b"")), "image_nonce"),
        (_raw(images=(b"", b"", b"", b"\x01" * 12)), "image_upload_key"),
        (_raw(3, disappearing=b"\x00\x01"), "8 bytes"),
        (_raw(3, disappearing=bytes(8)), "greater than 0"),
        (b"\x00\x02" + GID + b"\x40\x01n" + bytes(7), "non-minimal"),
    ],
)
def test_invalid_bytes_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidGroupData) as err:
        NostrGroupData.from_bytes(raw)
    assert reason in err.value.reason


def test_admins_are_sorted_and_unique() -> None:
    data = NostrGroupData(GID, admins=(b"\x02" * 32, b"\x01" * 32, b"\x02" * 32))
    assert data.admins == (b"\x01" * 32, b"\x02" * 32)
    assert data.is_admin(b"\x01" * 32)
    assert not data.is_admin(b"\x03" * 32)


def test_relays_are_normalised_deduplicated_and_sorted() -> None:
    data = NostrGroupData(
        GID,
        relays=("wss://B.example:443", "wss://a.example/", "wss://b.example", "wss://a.example"),
    )
    # "wss://a.example/" and "wss://a.example" are one relay; the first spelling is kept.
    assert data.relays == ("wss://a.example/", "wss://b.example")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"nostr_group_id": b"\x00" * 31},
        {"nostr_group_id": GID, "admins": (b"\x01" * 33,)},
        {"nostr_group_id": GID, "relays": ("http://x",)},
        {"nostr_group_id": GID, "image_hash": b"\x01"},
        {"nostr_group_id": GID, "disappearing_message_secs": 0},
        {"nostr_group_id": GID, "disappearing_message_secs": 2**64},
        {"nostr_group_id": GID, "version": 0},
    ],
)
def test_invalid_values_cannot_be_built(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidGroupData):
        NostrGroupData(**kwargs)  # type: ignore[arg-type]


def test_clearing_the_image_clears_its_keys() -> None:
    data = NostrGroupData(
        GID,
        image_hash=b"\x01" * 32,
        image_key=b"\x02" * 32,
        image_nonce=b"\x03" * 12,
        image_upload_key=b"\x04" * 32,
    )
    cleared = data.updated(image_hash=None)
    assert (cleared.image_key, cleared.image_nonce, cleared.image_upload_key) == (None,) * 3


def test_an_unknown_field_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'title'"):
        NostrGroupData(GID).updated(title="x")


def test_secrets_stay_out_of_repr() -> None:
    data = NostrGroupData(GID, image_key=b"\x99" * 32, image_upload_key=b"\x98" * 32)
    assert "\\x99" not in repr(data) and "\\x98" not in repr(data)


def test_extension_lookup() -> None:
    data = NostrGroupData(GID, name="x")
    other = Extension(ExtensionType.REQUIRED_CAPABILITIES, b"\x00\x00\x00")
    assert NostrGroupData.from_extensions([other, data.to_extension()]) == data
    with pytest.raises(InvalidGroupData, match="no marmot_group_data"):
        NostrGroupData.from_extensions([other])
    with pytest.raises(InvalidGroupData, match="more than one"):
        NostrGroupData.from_extensions([data.to_extension(), data.to_extension()])


def test_create_draws_a_random_group_id() -> None:
    one = NostrGroupData.create(name="a", admins=[ADMIN], relays=["wss://r"], rng=CountingRng("1"))
    two = NostrGroupData.create(name="a", admins=[ADMIN], relays=["wss://r"], rng=CountingRng("2"))
    assert len(one.nostr_group_id) == 32
    assert one.nostr_group_id != two.nostr_group_id
    assert one.wire_version == 2
    assert len(new_mls_group_id(CountingRng())) == 16


@given(
    name=st.text(max_size=40),
    description=st.text(max_size=40),
    admins=st.lists(st.binary(min_size=32, max_size=32), max_size=4),
    hosts=st.lists(st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True), max_size=4),
    secs=st.one_of(st.none(), st.integers(min_value=1, max_value=2**64 - 1)),
    image=st.booleans(),
)
def test_round_trip(
    *,
    name: str,
    description: str,
    admins: list[bytes],
    hosts: list[str],
    secs: int | None,
    image: bool,
) -> None:
    extra = {}
    if image:
        extra = {"image_hash": b"\x01" * 32, "image_key": b"\x02" * 32, "image_nonce": b"\x03" * 12}
    data = NostrGroupData(
        GID,
        name,
        description,
        tuple(admins),
        tuple(f"wss://{h}" for h in hosts),
        disappearing_message_secs=secs,
        **extra,  # type: ignore[arg-type]
    )
    decoded = NostrGroupData.from_bytes(data.to_bytes())
    assert decoded.updated(version=data.version) == data
    assert decoded.to_bytes() == data.to_bytes()


# --- creation parameters ------------------------------------------------------------------


def test_required_capabilities_include_self_remove_when_every_invitee_supports_it() -> None:
    caps = required_capabilities([key_package("bob").key_package, key_package("carol").key_package])
    assert caps == RequiredCapabilities((0xF2EE,), (0x000A,), ())


def test_one_legacy_invitee_drops_self_remove() -> None:
    caps = required_capabilities(
        [key_package("bob").key_package, legacy_key_package("carol").key_package]
    )
    assert caps.proposal_types == ()
    assert caps.extension_types == (0xF2EE,)


def test_creator_only_group_requires_no_proposals() -> None:
    assert required_capabilities([]).proposal_types == ()


def test_group_context_extensions_order() -> None:
    data = NostrGroupData(GID)
    exts = group_context_extensions(data, [key_package("bob").key_package])
    assert [e.extension_type for e in exts] == [0xF2EE, ExtensionType.REQUIRED_CAPABILITIES]
    assert RequiredCapabilities.from_bytes(exts[1].extension_data).proposal_types == (0x000A,)


def test_member_rules() -> None:
    alice, bob, carol = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    validate_group_members(alice, [alice, bob], [bob, carol])
    validate_group_members(alice, [alice], [])
    with pytest.raises(UsageError, match="must be an admin"):
        validate_group_members(alice, [bob], [bob])
    validate_group_members(alice, [alice], [alice, bob])  # the creator's other device
    with pytest.raises(UsageError, match="must be an invitee"):
        validate_group_members(alice, [alice, carol], [bob])
    with pytest.raises(UsageError, match="must be an invitee"):
        validate_group_members(alice, [alice, carol], [alice, bob])
