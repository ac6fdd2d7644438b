"""MIP-00: Marmot KeyPackages and their Nostr events (kind 30443, legacy twin 443).

The KeyPackage (marmot.md section 2.2): BasicCredential whose identity is the raw 32-byte
Nostr key; capabilities versions [mls10], suites [0x0001], extensions [last_resort,
0xF2EE], proposals [self_remove], credentials [basic], plus GREASE; a ``last_resort``
KeyPackage extension; lifetime ``[now - 1 h, now + 84 d]``; we accept up to 91 d (marmot-ts).

The event (section 2.3): ``content = base64(TLS(KeyPackage))`` and, in this order, tags
``d`` (30443; optional on 443, where Burrow keeps its device slot),
``mls_protocol_version``, ``mls_ciphersuite``, ``mls_extensions``, ``mls_proposals``,
``relays``, ``i``, optional ``-``, ``client``, ``encoding``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from marmot.errors import InvalidKeyPackageEvent, UsageError
from marmot.group_data import EXTENSION_TYPE as GROUP_DATA_EXTENSION
from marmot.primitives import b64decode, b64encode, is_lower_hex
from mls.crypto import get_suite
from mls.errors import MlsError
from mls.key_package import (
    DEFAULT_LIFETIME,
    KeyPackageBundle,
    create_key_package,
    validate_key_package,
)
from mls.messages import (
    Capabilities,
    Credential,
    CredentialType,
    Extension,
    ExtensionType,
    KeyPackage,
    ProposalType,
    ProtocolVersion,
)
from mls.refs import key_package_ref
from nostr.errors import DecodeError as NostrDecodeError
from nostr.errors import NostrError
from nostr.event import Event, Tags, UnsignedEvent
from nostr.keys import PublicKey, Rng, system_rng
from nostr.kinds import Kind
from nostr.relay_url import normalize_relay_url

CIPHER_SUITE = 0x0001
LIFETIME_CAP = 7_261_200
"""What we publish: at most 84 days + 1 hour, the range OpenMLS calls acceptable."""
ACCEPTED_LIFETIME = 91 * 86_400
"""What we accept: marmot-ts publishes 90-day lifetimes (plus backdating) and MDK 0.8,
whose OpenMLS checks no range, takes them."""
CLIENT = "burrow/0.1.0"
KINDS = (Kind.MLS_KEY_PACKAGE, Kind.MLS_KEY_PACKAGE_LEGACY)
REQUIRED_EXTENSIONS = ("0x000a", "0xf2ee")
_CODEPOINT = re.compile(r"0x[0-9a-fA-F]{4}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_SLOT = re.compile(r"[0-9a-fA-F]{64}")


def marmot_capabilities() -> Capabilities:
    return Capabilities(
        versions=(ProtocolVersion.MLS10,),
        cipher_suites=(CIPHER_SUITE,),
        extensions=(ExtensionType.LAST_RESORT, GROUP_DATA_EXTENSION),
        proposals=(ProposalType.SELF_REMOVE,),
        credentials=(CredentialType.BASIC,),
    )


def create_marmot_key_package(
    identity: PublicKey, *, now: int, rng: Rng = system_rng
) -> KeyPackageBundle:
    """A last-resort KeyPackage as MDK makes them, for the Nostr identity ``identity``."""
    return create_key_package(
        CIPHER_SUITE,
        Credential.basic(identity.data),
        now=now,
        lifetime=DEFAULT_LIFETIME,
        capabilities=marmot_capabilities(),
        extensions=(Extension(ExtensionType.LAST_RESORT, b""),),
        grease=True,
        rng=rng,
    )


@dataclass(frozen=True, slots=True)
class KeyPackageEventData:
    """Content and tags for the 30443 event and its legacy 443 twin."""

    content: str
    tags_30443: Tags
    tags_443: Tags
    ref: bytes
    d_tag: str

    def unsigned(
        self,
        pubkey: PublicKey | str,
        created_at: int,
        *,
        legacy: bool = False,
        slotted: bool = False,
    ) -> UnsignedEvent:
        """``slotted``: a 443 that keeps the ``d`` tag (a device slot on a regular event;
        MDK 0.8 and whitenoise-rs ignore tags they do not know)."""
        kind = Kind.MLS_KEY_PACKAGE_LEGACY if legacy else Kind.MLS_KEY_PACKAGE
        tags = self.tags_443 if legacy and not slotted else self.tags_30443
        return UnsignedEvent.create(pubkey, created_at, kind, self.content, tags)


def key_package_event_data(
    key_package: KeyPackage,
    *,
    relays: Sequence[str],
    d_tag: str | None = None,
    protected: bool = False,
    client: str = CLIENT,
    rng: Rng = system_rng,
) -> KeyPackageEventData:
    """Tags in MDK's order; reuse ``d_tag`` when rotating so relays replace in place."""
    if not relays:
        raise UsageError("a KeyPackage event needs at least one relay")
    try:
        relay_list = [normalize_relay_url(url) for url in relays]
    except NostrDecodeError as exc:
        raise UsageError(f"invalid relay URL: {exc}") from None
    d = rng(32).hex() if d_tag is None else d_tag
    if not is_lower_hex(d, 64):
        raise UsageError("a d tag is 64 lowercase hex characters")
    encoded = key_package.to_bytes()
    ref = key_package_ref_of(encoded)
    common: list[tuple[str, ...]] = [
        ("mls_protocol_version", "1.0"),
        ("mls_ciphersuite", f"0x{CIPHER_SUITE:04x}"),
        ("mls_extensions", *REQUIRED_EXTENSIONS),
        ("mls_proposals", "0x000a"),
        ("relays", *relay_list),
        ("i", ref.hex()),
    ]
    if protected:
        common.append(("-",))
    common += [("client", client), ("encoding", "base64")]
    return KeyPackageEventData(b64encode(encoded), (("d", d), *common), tuple(common), ref, d)


def key_package_ref_of(encoded: bytes) -> bytes:
    """KeyPackageRef of an encoded KeyPackage (suite 0x0001)."""
    return key_package_ref(get_suite(CIPHER_SUITE), encoded)


# --- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarmotKeyPackage:
    """A KeyPackage event that passed every MIP-00 check."""

    event_id: str
    author: PublicKey
    kind: int
    key_package: KeyPackage = field(repr=False)
    ref: bytes
    relays: tuple[str, ...]
    d_tag: str | None

    @property
    def supports_self_remove(self) -> bool:
        return ProposalType.SELF_REMOVE in self.key_package.leaf_node.capabilities.proposals


def _first(event: Event, name: str) -> tuple[str, ...] | None:
    for tag in event.tags:
        if tag and tag[0] == name:
            return tag
    return None


def _required(event: Event, name: str) -> tuple[str, ...]:
    tag = _first(event, name)
    if tag is None or len(tag) < 2:
        raise InvalidKeyPackageEvent(f"missing {name!r} tag", event_id=event.id)
    return tag


def _codepoints(event: Event, tag: tuple[str, ...]) -> list[str]:
    for value in tag[1:]:
        if not _CODEPOINT.fullmatch(value):
            raise InvalidKeyPackageEvent(
                f"{tag[0]} value {value!r} is not 0x + 4 hex", event_id=event.id
            )
    return [v.lower() for v in tag[1:]]


def _check_codepoint_tags(event: Event) -> None:
    if _required(event, "mls_protocol_version")[1] != "1.0":
        raise InvalidKeyPackageEvent("mls_protocol_version must be 1.0", event_id=event.id)
    # MDK reads only the first ciphersuite value.
    suite = _codepoints(event, _required(event, "mls_ciphersuite")[:2])
    if suite[0] != f"0x{CIPHER_SUITE:04x}":
        raise InvalidKeyPackageEvent(f"unsupported ciphersuite {suite[0]}", event_id=event.id)
    extensions = _codepoints(event, _required(event, "mls_extensions"))
    for required in REQUIRED_EXTENSIONS:
        if required not in extensions:
            raise InvalidKeyPackageEvent(f"mls_extensions lacks {required}", event_id=event.id)
    # marmot-ts omits the tag (MDK 0.8 would refuse it on 30443): the KeyPackage's own
    # capabilities are what count. A tag that is present must be MDK's, byte for byte.
    proposals = _first(event, "mls_proposals")
    if proposals is not None and proposals != ("mls_proposals", "0x000a"):
        raise InvalidKeyPackageEvent("mls_proposals must be exactly 0x000a", event_id=event.id)


def _relays(event: Event) -> tuple[str, ...]:
    try:
        relays = [normalize_relay_url(url) for url in _required(event, "relays")[1:]]
    except NostrDecodeError as exc:
        raise InvalidKeyPackageEvent(f"invalid relay URL: {exc}", event_id=event.id) from None
    return tuple(dict.fromkeys(relays))


def _ref_tag(event: Event) -> bytes | None:
    """The KeyPackageRef the ``i`` tag claims: exactly one hex value (any case, as MDK)."""
    tag = _first(event, "i")
    if tag is None:
        if event.kind == Kind.MLS_KEY_PACKAGE:
            raise InvalidKeyPackageEvent("missing 'i' tag", event_id=event.id)
        return None
    if len(tag) != 2 or not _HEX.fullmatch(tag[1]):
        raise InvalidKeyPackageEvent("the i tag must be one hex value", event_id=event.id)
    return bytes.fromhex(tag[1])


def _check_tags(event: Event) -> tuple[str | None, tuple[str, ...], bytes | None]:
    """Structural tag rules in MDK's order; returns the ``d`` value, the relays and the
    claimed KeyPackageRef."""
    d_tag: str | None
    if event.kind == Kind.MLS_KEY_PACKAGE:
        d_tag = _required(event, "d")[1]
        if not _SLOT.fullmatch(d_tag):
            raise InvalidKeyPackageEvent("the d tag must be 64 hex characters", event_id=event.id)
    else:
        d_tag = _legacy_slot(event)
    _check_codepoint_tags(event)
    relays = _relays(event)
    ref = _ref_tag(event)
    # MDK takes the first encoding tag it understands.
    if not any(t[:1] == ("encoding",) and t[1:2] == ("base64",) for t in event.tags):
        raise InvalidKeyPackageEvent("the encoding tag must be base64", event_id=event.id)
    return d_tag, relays, ref


def _legacy_slot(event: Event) -> str | None:
    """A 443's ``d`` tag, when it is a device slot (64 hex, as Burrow writes it); any
    other ``d`` is someone else's business and leaves the event unslotted."""
    tag = _first(event, "d")
    if tag is None or len(tag) < 2 or not _SLOT.fullmatch(tag[1]):
        return None
    return tag[1]


def _check_key_package(event: Event, kp: KeyPackage, now: int) -> None:
    try:
        validate_key_package(kp, now=now, cipher_suite=CIPHER_SUITE)
    except MlsError as exc:
        raise InvalidKeyPackageEvent(f"invalid KeyPackage: {exc}", event_id=event.id) from None
    leaf = kp.leaf_node
    lifetime = leaf.lifetime
    if lifetime is None or lifetime.not_after - lifetime.not_before > ACCEPTED_LIFETIME:
        raise InvalidKeyPackageEvent("KeyPackage lifetime exceeds 91 days", event_id=event.id)
    for ext in kp.extensions:
        if ext.extension_type not in leaf.capabilities.extensions:
            raise InvalidKeyPackageEvent(
                f"KeyPackage extension 0x{ext.extension_type:04x} not in capabilities",
                event_id=event.id,
            )
    credential = leaf.credential
    if credential.credential_type != CredentialType.BASIC:
        raise InvalidKeyPackageEvent("the credential must be a BasicCredential", event_id=event.id)
    if len(credential.identity) != 32:
        raise InvalidKeyPackageEvent(
            f"credential identity must be 32 bytes, got {len(credential.identity)}",
            event_id=event.id,
        )
    if credential.identity.hex() != event.pubkey:
        raise InvalidKeyPackageEvent(
            "credential identity is not the event author", event_id=event.id
        )


def parse_key_package_event(event: Event, *, now: int) -> MarmotKeyPackage:
    """Check a kind 30443/443 event with every rule of MIP-00, in MDK's order.

    The event's own id and signature are verified first.
    """
    if event.kind not in KINDS:
        raise InvalidKeyPackageEvent(f"kind {event.kind} is not a KeyPackage", event_id=event.id)
    try:
        event.verify()
    except NostrError as exc:
        raise InvalidKeyPackageEvent(f"bad event: {exc}", event_id=event.id) from None
    d_tag, relays, claimed_ref = _check_tags(event)
    try:
        encoded = b64decode(event.content)
        kp = KeyPackage.from_bytes(encoded)
    except (ValueError, MlsError) as exc:
        raise InvalidKeyPackageEvent(
            f"content is not a KeyPackage: {exc}", event_id=event.id
        ) from None
    _check_key_package(event, kp, now)
    ref = key_package_ref_of(encoded)
    if claimed_ref is not None and claimed_ref != ref:
        raise InvalidKeyPackageEvent("the i tag is not the KeyPackageRef", event_id=event.id)
    return MarmotKeyPackage(event.id, event.author, event.kind, kp, ref, relays, d_tag)
