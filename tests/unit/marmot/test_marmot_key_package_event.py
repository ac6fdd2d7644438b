"""MIP-00 KeyPackages and their kind 30443/443 events (marmot.md section 2)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pytest

from marmot.errors import InvalidKeyPackageEvent, UsageError
from marmot.key_package_event import (
    ACCEPTED_LIFETIME,
    LIFETIME_CAP,
    key_package_event_data,
    parse_key_package_event,
)
from mls.crypto import get_suite
from mls.key_package import create_key_package
from mls.messages import Capabilities, Credential, Extension, ExtensionType, KeyPackage
from mls.refs import key_package_ref
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import RELAY, key_package, key_package_event
from tests.helpers.nostr_factories import NOW, CountingRng, secret

BOB = secret("bob")


def test_key_package_matches_mdk() -> None:
    bundle = key_package("bob")
    kp = bundle.key_package
    leaf = kp.leaf_node
    assert kp.cipher_suite == 1 and kp.version == 1
    assert leaf.credential == Credential.basic(BOB.public_key().data)
    caps = leaf.capabilities
    assert caps.versions == (1,)
    non_grease = lambda values: [v for v in values if v & 0x0F0F != 0x0A0A]  # noqa: E731
    assert non_grease(caps.cipher_suites) == [1]
    assert non_grease(caps.extensions) == [0x000A, 0xF2EE]
    assert non_grease(caps.proposals) == [0x000A]
    assert non_grease(caps.credentials) == [1]
    assert len(caps.extensions) == 3  # one GREASE value added
    assert kp.extensions == (Extension(ExtensionType.LAST_RESORT, b""),)
    assert leaf.extensions == ()
    assert leaf.lifetime is not None
    assert (leaf.lifetime.not_before, leaf.lifetime.not_after) == (NOW - 3600, NOW + 7_257_600)
    assert leaf.lifetime.not_after - leaf.lifetime.not_before <= LIFETIME_CAP
    assert kp.to_bytes()[:5] == b"\x00\x01\x00\x01\x20"  # bare KeyPackage, not an MLSMessage


def test_event_tags_and_order() -> None:
    bundle = key_package("bob")
    data = key_package_event_data(
        bundle.key_package, relays=["wss://Relay.Example.com:443", "ws://b"], rng=CountingRng()
    )
    ref = bundle.ref.hex()
    common = (
        ("mls_protocol_version", "1.0"),
        ("mls_ciphersuite", "0x0001"),
        ("mls_extensions", "0x000a", "0xf2ee"),
        ("mls_proposals", "0x000a"),
        ("relays", "wss://relay.example.com", "ws://b"),
        ("i", ref),
        ("client", "burrow/0.1.0"),
        ("encoding", "base64"),
    )
    assert data.tags_443 == common
    assert data.tags_30443 == (("d", data.d_tag), *common)
    assert len(data.d_tag) == 64
    assert base64.b64decode(data.content) == bundle.key_package.to_bytes()
    protected = key_package_event_data(
        bundle.key_package, relays=[RELAY], d_tag=data.d_tag, protected=True
    )
    assert protected.tags_30443[0] == ("d", data.d_tag)  # rotation keeps the slot
    assert [t[0] for t in protected.tags_30443][-4:] == ["i", "-", "client", "encoding"]


def test_builder_refuses_bad_input() -> None:
    kp = key_package("bob").key_package
    with pytest.raises(UsageError):
        key_package_event_data(kp, relays=[])
    with pytest.raises(UsageError):
        key_package_event_data(kp, relays=["https://x"])
    with pytest.raises(UsageError):
        key_package_event_data(kp, relays=[RELAY], d_tag="AB" * 32)


def test_valid_events_parse() -> None:
    bundle = key_package("bob")
    for legacy in (False, True):
        event = key_package_event("bob", bundle, legacy=legacy)
        parsed = parse_key_package_event(event, now=NOW)
        assert parsed.key_package == bundle.key_package
        assert parsed.ref == bundle.ref
        assert parsed.author == BOB.public_key()
        assert parsed.relays == (RELAY,)
        assert parsed.supports_self_remove
        assert (parsed.d_tag is None) == legacy


def _sign(
    tags: Sequence[Sequence[str]], content: str, *, kind: int = 30443, label: str = "bob"
) -> Event:
    key = secret(label)
    return UnsignedEvent.create(key.public_key(), NOW, kind, content, tags).sign(
        key, rng=CountingRng()
    )


GOOD = key_package_event("bob")
GOOD_TAGS = [list(t) for t in GOOD.tags]
GOOD_REF = GOOD.tags[[t[0] for t in GOOD.tags].index("i")][1]


def _with(name: str, value: list[str] | None) -> list[list[str]]:
    """GOOD's tags with tag ``name`` replaced by ``value`` (or removed)."""
    out = []
    for tag in GOOD_TAGS:
        if tag[0] == name:
            if value is not None:
                out.append(value)
        else:
            out.append(tag)
    return out


def _content_for(kp: KeyPackage) -> tuple[str, str]:
    encoded = kp.to_bytes()
    return base64.b64encode(encoded).decode(), key_package_ref(get_suite(1), encoded).hex()


def _kp_event(kp: KeyPackage, label: str = "bob") -> Event:
    content, ref = _content_for(kp)
    return _sign(_with("i", ["i", ref]), content, label=label)


def _other_kp(
    identity: bytes,
    *,
    now: int = NOW,
    lifetime: int = 7_257_600,
    capabilities: Capabilities | None = None,
) -> KeyPackage:
    bundle = create_key_package(
        1,
        Credential.basic(identity),
        now=now,
        lifetime=lifetime,
        capabilities=capabilities or key_package("bob").key_package.leaf_node.capabilities,
        extensions=(Extension(ExtensionType.LAST_RESORT, b""),),
        rng=CountingRng("other"),
    )
    return bundle.key_package


BOB_ID = BOB.public_key().data
NO_LAST_RESORT = Capabilities((1,), (1,), (0xF2EE,), (0x000A,), (1,))
CASES = [
    (_sign(GOOD_TAGS, GOOD.content, kind=443 + 1), "not a KeyPackage"),
    (
        Event(
            *[getattr(GOOD, f) for f in ("id", "pubkey", "created_at", "kind", "tags", "content")],
            "00" * 64,
        ),
        "bad event",
    ),
    (_sign(_with("d", None), GOOD.content), "'d'"),
    (_sign(_with("d", ["d", "xyz"]), GOOD.content), "64 hex"),
    (_sign(_with("mls_protocol_version", None), GOOD.content), "mls_protocol_version"),
    (_sign(_with("mls_protocol_version", ["mls_protocol_version", "2.0"]), GOOD.content), "1.0"),
    (_sign(_with("mls_ciphersuite", ["mls_ciphersuite", "0x0002"]), GOOD.content), "ciphersuite"),
    (_sign(_with("mls_ciphersuite", ["mls_ciphersuite", "1"]), GOOD.content), "0x + 4 hex"),
    (_sign(_with("mls_extensions", ["mls_extensions", "0x000a"]), GOOD.content), "0xf2ee"),
    (
        _sign(
            _with("mls_extensions", ["mls_extensions", "0x000a", "0xf2ee", "f2ee"]), GOOD.content
        ),
        "0x + 4 hex",
    ),
    (_sign(_with("mls_extensions", None), GOOD.content), "mls_extensions"),
    (_sign(_with("mls_proposals", ["mls_proposals", "0x000a", "0x0008"]), GOOD.content), "exactly"),
    (_sign(_with("mls_proposals", ["mls_proposals", "0x000A"]), GOOD.content), "exactly"),
    (_sign(_with("relays", None), GOOD.content), "relays"),
    (_sign(_with("relays", ["relays", "https://x", "nonsense"]), GOOD.content), "relay URL"),
    (_sign(_with("relays", ["relays", RELAY, "https://x"]), GOOD.content), "relay URL"),
    (_sign(_with("relays", ["relays"]), GOOD.content), "relays"),
    (_sign(_with("i", None), GOOD.content), "'i'"),
    (_sign(_with("i", ["i", GOOD_REF, GOOD_REF]), GOOD.content), "one hex value"),
    (_sign(_with("i", ["i", "xy" * 32]), GOOD.content), "one hex value"),
    (_sign(_with("i", ["i", ""]), GOOD.content), "one hex value"),
    (_sign(_with("i", ["i", "00" * 32]), GOOD.content), "KeyPackageRef"),
    (_sign(_with("encoding", None), GOOD.content), "encoding"),
    (_sign(_with("encoding", ["encoding", "hex"]), GOOD.content), "encoding"),
    (_sign(GOOD_TAGS, "not base64!"), "not a KeyPackage"),
    (_sign(GOOD_TAGS, base64.b64encode(b"\x00\x01").decode()), "not a KeyPackage"),
    (_kp_event(_other_kp(BOB_ID, now=NOW - 100 * 86400)), "lifetime"),
    (_kp_event(_other_kp(BOB_ID, lifetime=ACCEPTED_LIFETIME)), "91 days"),
    (_kp_event(_other_kp(BOB_ID.hex().encode())), "32 bytes"),
    (_kp_event(_other_kp(secret("mallory").public_key().data)), "not the event author"),
    (_kp_event(_other_kp(BOB_ID, capabilities=NO_LAST_RESORT)), "not in capabilities"),
]


@pytest.mark.parametrize(
    ("event", "reason"), CASES, ids=[c[1] + f"-{i}" for i, c in enumerate(CASES)]
)
def test_invalid_events_are_refused(event: Event, reason: str) -> None:
    with pytest.raises(InvalidKeyPackageEvent) as err:
        parse_key_package_event(event, now=NOW)
    assert reason in err.value.reason
    assert err.value.event_id == event.id


def test_tampered_key_package_signature_is_refused() -> None:
    kp = key_package("bob").key_package
    forged = KeyPackage(
        kp.version, kp.cipher_suite, kp.init_key, kp.leaf_node, kp.extensions, bytes(64)
    )
    with pytest.raises(InvalidKeyPackageEvent, match="signature"):
        parse_key_package_event(_kp_event(forged), now=NOW)


def test_what_marmot_ts_publishes_is_accepted() -> None:
    """marmot-ts: a 30443 without ``mls_proposals`` and a 90-day leaf lifetime."""
    tags = [t for t in GOOD_TAGS if t[0] != "mls_proposals"]
    parsed = parse_key_package_event(_sign(tags, GOOD.content), now=NOW)
    assert parsed.kind == 30443
    ninety = _kp_event(_other_kp(BOB_ID, lifetime=90 * 86400))
    assert parse_key_package_event(ninety, now=NOW).key_package.leaf_node.lifetime is not None


def test_legacy_443_needs_no_i_nor_proposals() -> None:
    tags = [t for t in GOOD_TAGS if t[0] not in ("d", "i", "mls_proposals")]
    parsed = parse_key_package_event(_sign(tags, GOOD.content, kind=443), now=NOW)
    assert parsed.kind == 443


def test_codepoints_compare_case_insensitively() -> None:
    tags = _with("mls_ciphersuite", ["mls_ciphersuite", "0X0001"[0] + "x0001"])
    tags = [
        ["mls_extensions", "0x000A", "0xF2EE", "0x0a0a"] if t[0] == "mls_extensions" else t
        for t in tags
    ]
    parse_key_package_event(_sign(tags, GOOD.content), now=NOW)


def test_what_mdk_also_accepts() -> None:
    """MDK's parser decodes the ``i`` hex in any case, reads only the first ciphersuite
    value, and takes the first ``encoding`` tag it understands."""
    tags = _with("i", ["i", GOOD_REF.upper()])
    tags = [["mls_ciphersuite", "0x0001", "junk"] if t[0] == "mls_ciphersuite" else t for t in tags]
    tags = [t for t in tags if t[0] != "encoding"] + [["encoding", "hex"], ["encoding", "base64"]]
    parsed = parse_key_package_event(_sign(tags, GOOD.content), now=NOW)
    assert parsed.ref.hex() == GOOD_REF


def test_a_443_keeps_its_d_tag_as_the_device_slot() -> None:
    """Burrow's Profile A goes out as a 443 with its ``d`` slot (regular events are never
    replaced, so the slot is what tells devices apart); a ``d`` that is no slot is ignored."""
    bundle = key_package("bob")
    data = key_package_event_data(bundle.key_package, relays=[RELAY], rng=CountingRng("s"))
    slotted = data.unsigned(BOB.public_key(), NOW, legacy=True, slotted=True)
    assert slotted.kind == 443 and slotted.tags == data.tags_30443
    event = slotted.sign(BOB, rng=CountingRng())
    assert parse_key_package_event(event, now=NOW).d_tag == data.d_tag
    assert data.unsigned(BOB.public_key(), NOW, legacy=True).tags == data.tags_443
    odd = [["d", "laptop"], *(list(t) for t in data.tags_443)]
    assert parse_key_package_event(_sign(odd, data.content, kind=443), now=NOW).d_tag is None
