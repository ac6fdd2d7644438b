"""Sending into a Profile B group: MLS messages wrapped as 445 events.

The outer key is the sending state's epoch key (for a commit: the epoch it leaves, which
every receiver still holds); the ``h`` tag is the group's routing id. An application
message's event takes the payload's ``created_at`` (MDK binds the two) and, when the
group's retention is on, a NIP-40 ``expiration`` of that time plus the retention; a
commit or proposal never expires, so members catching up can still fetch group state.

::

    event, state = send_app_payload(state, rumor, rng=rng)     # a chat, edit, reaction ...
    event = handshake_event(state, pending.message, created_at=now, rng=rng)
"""

from __future__ import annotations

from marmot.errors import UsageError
from marmot.profile_b.group import group_view
from marmot.profile_b.inbound import group_event_key
from marmot.profile_b.payloads import encode_app_event
from marmot.profile_b.transport import app_message_expiration, build_group_event_b
from mls.group import GroupState, protect
from mls.messages import MLSMessage
from mls.types import Rng
from nostr.event import Event, UnsignedEvent

__all__ = ["handshake_event", "send_app_payload"]


def _routing_id(state: GroupState) -> bytes:
    routing = group_view(state).routing
    if routing is None:
        raise UsageError("the group has no Nostr routing component")
    return routing.nostr_group_id


def handshake_event(state: GroupState, message: MLSMessage, *, created_at: int, rng: Rng) -> Event:
    """A commit or proposal made at ``state`` as a 445 (never with an expiration)."""
    return build_group_event_b(
        _routing_id(state),
        message.to_bytes(),
        group_event_key(state),
        created_at=created_at,
        rng=rng,
    )


def send_app_payload(
    state: GroupState, rumor: UnsignedEvent, *, rng: Rng
) -> tuple[Event, GroupState]:
    """Encrypt ``rumor`` (authored by our account) for the group; the returned state has
    used one key of our sender ratchet and replaces ``state``."""
    message, state = protect(state, encode_app_event(rumor), rng=rng)
    retention = group_view(state).retention.disappearing_message_secs
    event = build_group_event_b(
        _routing_id(state),
        message.to_bytes(),
        group_event_key(state),
        created_at=rumor.created_at,
        expiration=app_message_expiration(rumor.created_at, retention),
        rng=rng,
    )
    return event, state
