"""MIP-01: the ``marmot_group_data`` GroupContext extension (type 0xF2EE) and group creation.

Wire format (marmot.md section 3.2, as mdk-core writes it with tls_codec; ``V`` is an MLS
varint-prefixed vector and an empty ``V`` means "absent")::

    uint16  version                     // 1, 2 or 3
    opaque  nostr_group_id[32]
    V       name                        // UTF-8
    V       description                 // UTF-8
    V       admin_pubkeys               // n x raw 32-byte x-only keys
    V       relays                      // each: V UTF-8 ws/wss URL
    V       image_hash                  // empty or 32 bytes
    V       image_key                   // empty or 32 bytes (v1: key, v2+: seed)
    V       image_nonce                 // empty or 12 bytes
    V       image_upload_key            // empty or 32 bytes
    V       disappearing_message_secs   // only when version >= 3: empty or u64 BE > 0

The writer emits version 3 exactly when a disappearing timer is set, else
``min(version, 2)``. The reader rejects version 0, rejects trailing bytes up to version 3
and ignores them after (forward compatibility).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from marmot.errors import InvalidGroupData, UsageError
from mls.codec import Reader, Writer
from mls.errors import DecodeError
from mls.messages import Extension, ExtensionType, KeyPackage, ProposalType, RequiredCapabilities
from nostr.errors import DecodeError as NostrDecodeError
from nostr.keys import Rng, system_rng
from nostr.relay_url import normalize_relay_url

EXTENSION_TYPE = 0xF2EE
MIN_VERSION = 1
MAX_WRITTEN_VERSION = 2  # without a disappearing timer
DISAPPEARING_VERSION = 3
MLS_GROUP_ID_LEN = 16  # OpenMLS GroupId::random (MIP-01 text says 32; the code wins)
_MAX_U64 = 2**64 - 1
_FIELD_LENGTHS = {"image_hash": 32, "image_key": 32, "image_nonce": 12, "image_upload_key": 32}


def _relay_order_key(url: str) -> str:
    # rust-nostr orders relays by the WHATWG form, where an empty path is "/".
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    if rest[cut : cut + 1] != "/":
        rest = rest[:cut] + "/" + rest[cut:]
    return f"{scheme}://{rest}"


def normalize_relays(relays: Iterable[str]) -> tuple[str, ...]:
    """Relay URLs in their normal form, de-duplicated and ordered as MDK writes them."""
    seen: dict[str, str] = {}
    for url in relays:
        try:
            normal = normalize_relay_url(url)
        except NostrDecodeError as exc:
            raise InvalidGroupData(f"invalid relay URL {url!r}: {exc}") from None
        seen.setdefault(_relay_order_key(normal), normal)
    return tuple(seen[k] for k in sorted(seen))


def normalize_admins(admins: Iterable[bytes]) -> tuple[bytes, ...]:
    """Raw 32-byte admin keys, unique and sorted by bytes (MDK keeps a BTreeSet)."""
    out = set()
    for key in admins:
        if type(key) is not bytes or len(key) != 32:
            raise InvalidGroupData("an admin key must be 32 raw bytes")
        out.add(key)
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class NostrGroupData:
    """The decoded 0xF2EE extension. Admins and relays are kept in MDK's canonical order.

    Build a new one with :meth:`create`; change one with :meth:`updated`.
    """

    nostr_group_id: bytes
    name: str = ""
    description: str = ""
    admins: tuple[bytes, ...] = ()
    relays: tuple[str, ...] = ()
    image_hash: bytes | None = None
    image_key: bytes | None = field(default=None, repr=False)
    image_nonce: bytes | None = field(default=None, repr=False)
    image_upload_key: bytes | None = field(default=None, repr=False)
    disappearing_message_secs: int | None = None
    version: int = MAX_WRITTEN_VERSION

    def __post_init__(self) -> None:
        if type(self.nostr_group_id) is not bytes or len(self.nostr_group_id) != 32:
            raise InvalidGroupData("nostr_group_id must be 32 bytes")
        if type(self.name) is not str or type(self.description) is not str:
            raise InvalidGroupData("name and description must be text")
        if not MIN_VERSION <= self.version <= 0xFFFF:
            raise InvalidGroupData(f"invalid group data version {self.version}")
        for name, length in _FIELD_LENGTHS.items():
            value = getattr(self, name)
            if value is not None and (type(value) is not bytes or len(value) != length):
                raise InvalidGroupData(f"{name} must be empty or exactly {length} bytes")
        secs = self.disappearing_message_secs
        if secs is not None and (type(secs) is not int or not 0 < secs <= _MAX_U64):
            raise InvalidGroupData("disappearing_message_secs must be a u64 greater than 0")
        object.__setattr__(self, "admins", normalize_admins(self.admins))
        object.__setattr__(self, "relays", normalize_relays(self.relays))

    @classmethod
    def create(
        cls,
        *,
        name: str,
        description: str = "",
        admins: Iterable[bytes],
        relays: Iterable[str],
        disappearing_message_secs: int | None = None,
        rng: Rng = system_rng,
    ) -> NostrGroupData:
        """Group data for a new group with a fresh random ``nostr_group_id``."""
        return cls(
            rng(32),
            name,
            description,
            tuple(admins),
            tuple(relays),
            disappearing_message_secs=disappearing_message_secs,
        )

    @property
    def wire_version(self) -> int:
        """The version :meth:`to_bytes` writes."""
        if self.disappearing_message_secs is not None:
            return DISAPPEARING_VERSION
        return min(self.version, MAX_WRITTEN_VERSION)

    @property
    def nostr_group_id_hex(self) -> str:
        """The value of the ``h`` tag of this group's kind 445 events."""
        return self.nostr_group_id.hex()

    def is_admin(self, pubkey: bytes) -> bool:
        return pubkey in self.admins

    def updated(self, **changes: object) -> NostrGroupData:
        """A copy with some fields replaced; clearing ``image_hash`` clears the image keys."""
        if unknown := set(changes) - set(self.__dataclass_fields__):
            raise UsageError(f"no group data field {sorted(unknown)[0]!r}")
        if "image_hash" in changes and changes["image_hash"] is None:
            changes = {"image_key": None, "image_nonce": None, "image_upload_key": None} | changes
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_bytes(self) -> bytes:
        w = Writer()
        w.u16(self.wire_version)
        w.fixed(self.nostr_group_id)
        w.opaque(self.name.encode())
        w.opaque(self.description.encode())
        w.opaque(b"".join(self.admins))
        w.vector((url.encode() for url in self.relays), Writer.opaque)
        for name in _FIELD_LENGTHS:
            w.opaque(getattr(self, name) or b"")
        if self.disappearing_message_secs is not None:
            w.opaque(self.disappearing_message_secs.to_bytes(8, "big"))
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NostrGroupData:
        try:
            return _decode(data)
        except DecodeError as exc:
            raise InvalidGroupData(f"malformed marmot_group_data: {exc}") from None

    def to_extension(self) -> Extension:
        return Extension(EXTENSION_TYPE, self.to_bytes())

    @classmethod
    def from_extensions(cls, extensions: Sequence[Extension]) -> NostrGroupData:
        """Read the 0xF2EE extension out of a GroupContext's extension list."""
        found = [e for e in extensions if e.extension_type == EXTENSION_TYPE]
        if not found:
            raise InvalidGroupData("the group has no marmot_group_data extension")
        if len(found) > 1:
            raise InvalidGroupData("the group has more than one marmot_group_data extension")
        return cls.from_bytes(found[0].extension_data)


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidGroupData(f"{what} is not UTF-8") from None


def _optional(raw: bytes, name: str) -> bytes | None:
    if not raw:
        return None
    if len(raw) != _FIELD_LENGTHS[name]:
        raise InvalidGroupData(f"{name} must be empty or exactly {_FIELD_LENGTHS[name]} bytes")
    return raw


def _decode(data: bytes) -> NostrGroupData:
    r = Reader(data)
    version = r.u16()
    if version == 0:
        raise InvalidGroupData("group data version 0 is invalid")
    group_id = r.fixed(32)
    name = _text(r.opaque(), "name")
    description = _text(r.opaque(), "description")
    admin_bytes = r.opaque()
    if len(admin_bytes) % 32:
        raise InvalidGroupData("admin_pubkeys is not a whole number of 32-byte keys")
    admins = tuple(admin_bytes[i : i + 32] for i in range(0, len(admin_bytes), 32))
    relays = tuple(_text(raw, "relay URL") for raw in r.vector(Reader.opaque))
    images = {name: _optional(r.opaque(), name) for name in _FIELD_LENGTHS}
    secs = None
    if version >= DISAPPEARING_VERSION:
        raw = r.opaque()
        if raw and len(raw) != 8:
            raise InvalidGroupData("disappearing_message_secs must be empty or 8 bytes")
        secs = int.from_bytes(raw, "big") if raw else None
        if secs == 0:
            raise InvalidGroupData("disappearing_message_secs must be greater than 0")
    if version <= DISAPPEARING_VERSION:
        r.finish()  # later versions may append fields we do not know
    return NostrGroupData(
        group_id,
        name,
        description,
        admins,
        relays,
        disappearing_message_secs=secs,
        version=version,
        **images,
    )


# --- group creation parameters (marmot.md section 3.1) ---------------------------------


def new_mls_group_id(rng: Rng = system_rng) -> bytes:
    """A private MLS group id: 16 random bytes, like OpenMLS ``GroupId::random``."""
    return rng(MLS_GROUP_ID_LEN)


def supports_self_remove(key_package: KeyPackage) -> bool:
    return ProposalType.SELF_REMOVE in key_package.leaf_node.capabilities.proposals


def required_capabilities(invitees: Sequence[KeyPackage]) -> RequiredCapabilities:
    """The ``required_capabilities`` of a new group: 0xF2EE always; SelfRemove only when
    every invitee advertises it (a creator-only group or a legacy invitee gives none)."""
    self_remove = bool(invitees) and all(supports_self_remove(kp) for kp in invitees)
    return RequiredCapabilities(
        extension_types=(EXTENSION_TYPE,),
        proposal_types=(ProposalType.SELF_REMOVE,) if self_remove else (),
        credential_types=(),
    )


def group_context_extensions(
    data: NostrGroupData, invitees: Sequence[KeyPackage]
) -> tuple[Extension, ...]:
    """The GroupContext extensions of a new group, in MDK's order."""
    caps = required_capabilities(invitees)
    return (data.to_extension(), Extension(ExtensionType.REQUIRED_CAPABILITIES, caps.to_bytes()))


def validate_group_members(
    creator: bytes, admins: Iterable[bytes], invitees: Iterable[bytes]
) -> None:
    """MDK ``validate_group_members``, per identity: the creator is an admin and every
    other admin is an invitee. Raises :class:`UsageError`.

    MDK also refuses the creator's own key among the invitees; we do not, so that the
    creator's other devices can join as leaves of their own. That rule is MDK's local
    guard only: its receivers accept an identity holding several leaves.
    """
    admin_set, invitee_set = set(admins), set(invitees)
    if creator not in admin_set:
        raise UsageError("the group creator must be an admin")
    if not admin_set - {creator} <= invitee_set:
        raise UsageError("every admin other than the creator must be an invitee")
