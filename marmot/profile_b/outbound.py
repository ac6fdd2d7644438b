"""Sending into a Profile B group: MLS messages wrapped as 445 events.

The outer key is the sending state's epoch key (for a commit: the epoch it leaves, which
every receiver still holds); the ``h`` tag is the group's routing id. An application
message's event takes the payload's ``created_at`` (MDK binds the two) and, when the
group's retention is on, a NIP-40 ``expiration`` of that time plus the retention; a
commit or proposal never expires, so members catching up can still fetch group state.

::

    event, state = send_app_payload(state, rumor, rng=rng)     # a chat, edit, reaction ...
    event = handshake_event(state, pending.message, created_at=now, rng=rng)
    wraps = welcome_wraps(secret, pending, [(invitee, kp_event_id)], now=now, rng=rng)

Welcomes go out only after the commit that adds the invitees was acknowledged (publish
before apply; a Welcome ahead of its commit lets the joiner fork the group). Every
invitee gets its own 444 naming the KeyPackage event it was invited with, sealed by the
inviter and gift-wrapped to the invitee (NIP-59); the relays are the group's routing
relays.
"""

from __future__ import annotations

from collections.abc import Sequence

from marmot.errors import UsageError
from marmot.profile_b.group import group_view
from marmot.profile_b.inbound import group_event_key
from marmot.profile_b.payloads import encode_app_event
from marmot.profile_b.transport import app_message_expiration, build_group_event_b, welcome_rumor_b
from mls.group import GroupState, PendingCommit, protect
from mls.messages import MLSMessage, Welcome
from mls.types import Rng
from nostr import nip59
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, SecretKey

__all__ = ["handshake_event", "send_app_payload", "welcome_wraps"]


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


def welcome_wraps(
    inviter: SecretKey,
    pending: PendingCommit,
    invitees: Sequence[tuple[PublicKey, str]],
    *,
    now: int,
    rng: Rng,
) -> list[Event]:
    """One gift-wrapped 444 per ``(invitee, KeyPackage event id)`` of ``pending``."""
    if pending.welcome is None or not isinstance(pending.welcome.body, Welcome):
        raise UsageError("this commit adds nobody")
    routing = group_view(pending.next_state).routing
    if routing is None:
        raise UsageError("the group has no Nostr routing component")
    wraps = []
    for invitee, kp_event_id in invitees:
        rumor = welcome_rumor_b(
            inviter.public_key(), pending.welcome.body, kp_event_id, routing.relays, created_at=now
        )
        wraps.append(nip59.gift_wrap(rumor, inviter, invitee, now=now, rng=rng))
    return wraps
