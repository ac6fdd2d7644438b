"""The seam between the group services and the Marmot layer: storage forms of a group.

The protocol itself (creating, committing, processing kind 445 events, joining) is
``marmot.group`` / ``marmot.operations`` / ``marmot.inbound``; this module only maps a
`MarmotGroup` to and from what storage keeps (an opaque state blob, the decoded group data
as columns, the leaf -> identity list) and answers the one question the inbox asks before
processing: can any of our epoch keys open this event at all? It also re-envelopes one of
our own events that waited too long to be published.
"""

from __future__ import annotations

from marmot.errors import InvalidGroupEvent, MarmotError
from marmot.group import MarmotGroup
from marmot.group_data import NostrGroupData
from marmot.group_event import build_group_event, trial_decrypt
from nostr.event import Event
from nostr.keys import Rng
from storage.rows import GroupMetadata, Member, MlsState

STATE_FORMAT = 2
"""1 was a bare ``mls.snapshot`` blob; 2 is `MarmotGroup.to_bytes` (versioned itself)."""


def dump(group: MarmotGroup) -> MlsState:
    return MlsState(STATE_FORMAT, group.to_bytes())


def load(stored: MlsState) -> MarmotGroup:
    return MarmotGroup.from_bytes(stored.data)


def metadata(data: NostrGroupData) -> GroupMetadata:
    return GroupMetadata(
        data.nostr_group_id_hex,
        data.name,
        data.description,
        tuple(a.hex() for a in data.admins),
        data.relays,
        data.to_bytes(),
    )


def disappearing_secs(meta: GroupMetadata) -> int | None:
    """The group's disappearing-message timer (0xF2EE v3), None when off or unknown."""
    if not meta.marmot_data:
        return None
    try:
        return NostrGroupData.from_bytes(meta.marmot_data).disappearing_message_secs
    except MarmotError:
        return None


def members(group: MarmotGroup) -> tuple[Member, ...]:
    return tuple(Member(leaf, ident.hex()) for leaf, ident in sorted(group.members().items()))


def can_open(group: MarmotGroup, event: Event) -> bool:
    """Whether the key of our current or a retained epoch opens the event's outer layer
    (if not, it may belong to an epoch we have not reached yet)."""
    try:
        trial_decrypt(event, group.group_event_keys())
    except InvalidGroupEvent:
        return False
    return True


def reenvelope(group: MarmotGroup, event: Event, *, now: int, rng: Rng) -> Event | None:
    """The same MLS message as our ``event``, in a fresh kind 445 envelope dated ``now``
    (same epoch key, same expiration); None if no key we keep opens it any more."""
    try:
        opened = trial_decrypt(event, group.group_event_keys())
    except InvalidGroupEvent:
        return None
    expiration = event.first_tag_value("expiration")
    return build_group_event(
        group.nostr_group_id,
        opened.mls_message,
        group.group_event_key(opened.epoch),
        now=now,
        expiration=int(expiration) if expiration and expiration.isdigit() else None,
        rng=rng,
    )
