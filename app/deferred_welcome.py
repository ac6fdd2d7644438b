"""A Welcome whose gift wrap is made when it is sent, not when it is queued.

A remote signer's account cannot seal a Welcome while its signer is away, yet the commit
that adds the invitee must still go out (it needs no signer) and the Welcome must not be
lost. So it is queued in the outbox as its rumor and invitee, under a stand-in id; the
outbox wraps it (seal by the signer, wrap by a one-time key) before the first attempt and
stores the real gift wrap in its place.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from marmot.group import WelcomeRumor
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey
from nostr.signer import Signer

KEY = "deferred_welcome"


def stand_in_id(welcome: WelcomeRumor) -> str:
    """A unique outbox id until the wrap exists (never an event id anyone sees)."""
    seed = f"{KEY}:{welcome.rumor.id}:{welcome.invitee.hex}".encode()
    return hashlib.sha256(seed).hexdigest()


def to_json(welcome: WelcomeRumor) -> str:
    body = {
        "invitee": welcome.invitee.hex,
        "key_package_event_id": welcome.key_package_event_id,
        "rumor": welcome.rumor.to_dict(),
    }
    return json.dumps({KEY: body})


def is_deferred(data: dict[str, Any]) -> bool:
    return KEY in data


async def wrap(data: dict[str, Any], signer: Signer, *, now: int) -> Event:
    """The gift wrap of a queued Welcome (``SignerUnavailable`` while the signer is away)."""
    body = data[KEY]
    welcome = WelcomeRumor(
        PublicKey.from_hex(body["invitee"]),
        body["key_package_event_id"],
        UnsignedEvent.from_dict(body["rumor"]),
    )
    return await welcome.wrap_with(signer, now=now)
