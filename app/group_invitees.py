"""Who a group creation or an add invites, and where their Welcomes go.

Every live device of each person named is invited: the newest KeyPackage of each of
their key-package slots, found on their 10051 relays (then 10002, then ours). Our own
other live devices come along (`app.device_map`), so every device of ours is in the
groups we create or add members to. Each Welcome rumor is gift-wrapped to its invitee's
inbox relays (10050, else 10002, else ours; ours for our own devices).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from app import deferred_welcome
from app.contacts import Person
from app.context import Context
from app.device_map import DeviceMap
from app.errors import InviteTooLarge
from app.key_packages import KeyPackages
from app.relays import Relays
from marmot.group import MarmotGroup, WelcomeRumor
from marmot.key_package_event import MarmotKeyPackage
from nostr.errors import UsageError
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from storage import OutgoingEvent

WELCOME = "welcome"


@dataclass(frozen=True, slots=True)
class Invitee:
    key_package: MarmotKeyPackage
    inbox: tuple[str, ...]


class Invitees:
    def __init__(
        self, ctx: Context, relays: Relays, key_packages: KeyPackages, devices: DeviceMap
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._key_packages = key_packages
        self._devices = devices

    async def people(
        self, people: Sequence[Person], *, found: Sequence[MarmotKeyPackage] | None = None
    ) -> list[Invitee]:
        """Every live device of each person (`NoKeyPackage` for someone without any);
        ``found``: their key packages, already fetched (`app.profile_choice`)."""
        out: list[Invitee] = []
        for person in people:
            if found is None:
                kps = await self._key_packages.for_invitee(person.pubkey, hints=person.hints)
            else:
                kps = [kp for kp in found if kp.author.hex == person.pubkey]
            inbox = await self._relays.inbox_of(person.pubkey, hints=person.hints)
            out.extend(Invitee(kp, inbox) for kp in kps)
        return out

    async def own_devices(self, group: tuple[bytes, MarmotGroup] | None = None) -> list[Invitee]:
        """Our other live devices (not yet in ``group``, when one is given)."""
        if group is None:
            kps = await self._devices.other_devices()
        else:
            kps = await self._devices.missing_from(*group)
        return [Invitee(kp, self._relays.inbox) for kp in kps]

    async def welcome_events(
        self, welcomes: Sequence[WelcomeRumor], invitees: Sequence[Invitee], members: int
    ) -> tuple[OutgoingEvent, ...]:
        """Gift wraps of each Welcome rumor, addressed to the invitee's inbox relays;
        `InviteTooLarge` when one would not fit in an event (``members``: the group's size
        with the invitees, for the message).

        The seals are made concurrently: with a remote signer that is two round trips in
        flight per invitee at once, not one invitee after another."""
        ctx = self._ctx
        inbox = {i.key_package.event_id: i.inbox for i in invitees}
        limit = ctx.config.max_event_size
        if ctx.deferred_signing:
            # A remote signer seals them when the outbox sends them (`deferred_welcome`):
            # the commit need not wait for it, and a signer away loses nothing.
            try:
                probes = [_stand_in_wrap(w, now=ctx.now()) for w in welcomes]
            except UsageError as exc:  # NIP-44 encrypts at most 65,535 bytes
                raise InviteTooLarge(members, None, limit) from exc
            for text in probes:
                _fitting(text, members, limit)
            return tuple(
                OutgoingEvent(
                    deferred_welcome.stand_in_id(w),
                    deferred_welcome.to_json(w),
                    inbox.get(w.key_package_event_id) or self._relays.mine,
                    WELCOME,
                )
                for w in welcomes
            )
        try:
            wraps = await asyncio.gather(
                *(w.wrap_with(ctx.signer, now=ctx.now(), rng=ctx.rng) for w in welcomes)
            )
        except UsageError as exc:  # NIP-44 encrypts at most 65,535 bytes
            raise InviteTooLarge(members, None, limit) from exc
        out = []
        for welcome, wrap in zip(welcomes, wraps, strict=True):
            text = _fitting(wrap.to_json(), members, limit)
            relays = inbox.get(welcome.key_package_event_id) or self._relays.mine
            out.append(OutgoingEvent(wrap.id, text, relays, WELCOME))
        return tuple(out)


def _fitting(text: str, members: int, limit: int) -> str:
    """``text`` (a gift wrap's JSON), or `InviteTooLarge` when no relay would take it."""
    if len(text.encode()) > limit:
        raise InviteTooLarge(members, len(text.encode()), limit)
    return text


def _stand_in_wrap(welcome: WelcomeRumor, *, now: int) -> str:
    """The JSON of a gift wrap as large as the signer's will be: the same rumor, written
    and sealed by a throwaway key (keys, ids and signatures have fixed lengths)."""
    key = SecretKey.generate()
    r = welcome.rumor
    rumor = UnsignedEvent(key.public_key().hex, r.created_at, r.kind, r.tags, r.content)
    probe = WelcomeRumor(welcome.invitee, welcome.key_package_event_id, rumor)
    return probe.wrap(key, now=now).to_json()
