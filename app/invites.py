"""Invites: gift-wrapped Welcomes (MIP-02) become pending groups the user accepts or declines.

On receipt the Welcome is checked (blocked inviter, one of *this device's* key packages,
which is how the Welcome for another device of ours is told apart) and joined, but the
group stays *pending*: nothing is subscribed or sent until the user accepts. Accepting
activates it, catches it up, and performs the post-join self-update; either way the
consumed key package is replaced and deleted from the relays.

A Welcome from our own identity comes from another device of ours that created the group
or added us to it (see `app.group_invitees`): the user already chose, so it is accepted
at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from app import engine, timeline
from app.contacts import Contacts
from app.context import Context
from app.dm import welcome as dm_welcome
from app.errors import Ambiguous, AppError, NotFound
from app.events import GroupUpdated, InviteReceived, InviteRemoved
from app.groups import Groups
from app.key_packages import KeyPackages, bundle_of
from app.models import GroupInfo, InviteInfo
from marmot.errors import InvalidWelcome, MarmotError
from marmot.group import MarmotGroup, join_group
from marmot.primitives import b64decode
from marmot.profiles import Profile
from marmot.welcome import WelcomeInvite, parse_welcome_rumor
from nostr.errors import NostrError, RemoteSignerError, SignerUnavailable
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey
from nostr.nip59 import unwrap_with
from storage import Connection
from storage.repos import groups as groups_repo
from storage.repos import invites as invites_repo
from storage.repos import key_packages as kp_repo
from storage.repos import processed as processed_repo
from storage.rows import GroupState as Lifecycle
from storage.rows import Invite, InviteState, NewGroup, Outcome

log = logging.getLogger(__name__)

WAITING_FOR_SIGNER = "waiting for the remote signer"
ACCEPT_LOOKBACK = 24 * 3600
"""On accept, the group's events are fetched from this long before the invite arrived."""


class Invites:
    def __init__(
        self, ctx: Context, groups: Groups, contacts: Contacts, key_packages: KeyPackages
    ) -> None:
        self._ctx = ctx
        self._groups = groups
        self._contacts = contacts
        self._key_packages = key_packages
        self.wait_caught_up: Callable[[], Awaitable[object]] | None = None

    # --- receiving -------------------------------------------------------------------

    async def receive(self, wrap: Event) -> None:
        ctx = self._ctx
        if await ctx.db.run(processed_repo.is_done, wrap.id):
            return
        invite = await self._open(wrap)
        if invite is None:
            return
        reason = await self._refusal(invite)
        if reason:
            await self._mark(wrap, Outcome.FAILED, reason)
            return
        record = await ctx.db.run(kp_repo.by_event_id, invite.key_package_event_id)
        assert record is not None
        try:
            group = join_group(invite, bundle_of(record)).group
        except (MarmotError, AppError) as exc:
            await self._mark(wrap, Outcome.FAILED, f"cannot join: {exc}")
            return
        gid = group.mls_group_id
        if await ctx.db.run(groups_repo.get, gid) is not None:
            await self._mark(wrap, Outcome.FAILED, "already in this group")
            return
        new, row = _pending_rows(group, invite, wrap.id, record.ref, ctx.now())
        await ctx.db.transact(_store_invite, new, row, wrap, ctx.now())
        await self._groups.observe(gid, group)
        await self._key_packages.replace_consumed(record)
        if invite.inviter == ctx.pubkey:
            await self._activate(row)  # not waiting here: this runs on the sync worker
            ctx.spawn(self._self_update_later(gid), "joining a group of our other device")
            return
        ctx.emit(InviteReceived(ctx.pubkey, await self._info(row)))

    async def _open(self, wrap: Event) -> WelcomeInvite | None:
        """The Welcome inside ``wrap``, or None once its outcome is marked (a Profile B
        Welcome is joined here too: `app.dm.welcome`)."""
        try:
            gift = await unwrap_with(wrap, self._ctx.signer)
        except (SignerUnavailable, RemoteSignerError) as exc:
            # Not the Welcome's fault: keep it and open it once the signer answers again
            # (the session replays retryable events then, and at every start).
            log.info("gift wrap %s waits for the remote signer: %s", wrap.id, exc)
            await self._ctx.mark(wrap, Outcome.RETRYABLE, WAITING_FOR_SIGNER, keep=True)
            return None
        except NostrError as exc:
            await self._mark(wrap, Outcome.FAILED, f"gift wrap does not open: {exc}")
            return None
        if dm_welcome.is_profile_b(gift.rumor):
            await self._join_b(wrap, gift.rumor)
            return None
        try:
            if "id" not in json.loads(gift.rumor_json):
                raise InvalidWelcome("the Welcome rumor has no id", event_id=wrap.id)
            return parse_welcome_rumor(gift.rumor)
        except InvalidWelcome as exc:
            await self._mark(wrap, Outcome.FAILED, exc.reason)
        return None

    async def _join_b(self, wrap: Event, rumor: UnsignedEvent) -> None:
        """A Profile B Welcome: joined and kept pending until the user accepts."""
        ctx = self._ctx
        blocked = await self._contacts.is_blocked(rumor.pubkey)
        joined = await ctx.db.transact(
            dm_welcome.join_rows, wrap, rumor, blocked=blocked, now=ctx.now()
        )
        invite = joined.invite
        if invite is None or joined.used is None:
            log.debug("welcome %s failed: %s", wrap.id[:12], joined.reason)
            return
        await self._key_packages.replace_consumed(joined.used)
        if invite.inviter == ctx.pubkey:
            await self._activate(invite)
            return
        ctx.emit(InviteReceived(ctx.pubkey, await self._info(invite)))

    async def _refusal(self, invite: WelcomeInvite) -> str:
        """Why this Welcome is not for us to join, or "" when it is."""
        ctx = self._ctx
        if await self._contacts.is_blocked(invite.inviter):
            return "the inviter is blocked"
        record = await ctx.db.run(kp_repo.by_event_id, invite.key_package_event_id)
        if record is None:
            return "not one of this device's key packages"
        if record.private_material is None:
            return "the key package's private keys were already deleted"
        return ""

    async def _mark(self, wrap: Event, outcome: Outcome, reason: str) -> None:
        log.debug("welcome %s %s: %s", wrap.id[:12], outcome.value, reason)
        await self._ctx.mark(wrap, outcome, reason)

    # --- the user's answer -------------------------------------------------------------

    async def list_invites(self) -> list[InviteInfo]:
        found = await self._ctx.db.run(invites_repo.list_invites, InviteState.PENDING)
        return [await self._info(i) for i in found]

    async def resolve(self, ref: str) -> Invite:
        ref = ref.strip().lower()
        found = await self._ctx.db.run(invites_repo.list_invites, InviteState.PENDING)
        matches = [i for i in found if ref in (i.wrapper_event_id, i.nostr_group_id)]
        if not matches and ref:  # a unique prefix of the invite id or of the group id
            matches = [
                i
                for i in found
                if i.wrapper_event_id.startswith(ref) or (i.nostr_group_id or "").startswith(ref)
            ]
        if not matches:
            raise NotFound(f"no pending invite {ref}")
        if len(matches) > 1:
            raise Ambiguous(
                f"{ref} names several invites", tuple(i.wrapper_event_id for i in matches)
            )
        return matches[0]

    async def accept(self, ref: str) -> GroupInfo:
        gid = await self._activate(await self.resolve(ref))
        if (await self._groups.store.get(gid)).profile == Profile.B.value:
            return await self._groups.info_of(gid)  # Profile B: no post-join self-update
        return await self._join_later(gid)

    async def _activate(self, invite: Invite) -> bytes:
        """The group turns active and is followed from a while before the invite."""
        ctx = self._ctx
        gid = invite.mls_group_id
        if gid is None:
            raise NotFound("this invite has no group")
        added = timeline.Change(timeline.ADDED, invite.inviter, ctx.pubkey)

        def accept(conn: Connection) -> None:
            _decide(conn, invite.wrapper_event_id, gid, InviteState.ACCEPTED, ctx.now())
            # The chat starts with who brought us in ("Bob added you").
            anchor = f"welcome:{invite.wrapper_event_id}"
            timeline.record(conn, gid, [added], anchor, at=invite.received_at, now=ctx.now())

        await ctx.db.transact(accept)
        ctx.emit(InviteRemoved(ctx.pubkey, invite.wrapper_event_id, "accepted"))
        await self._groups.start_following(gid, invite.received_at - ACCEPT_LOOKBACK)
        ctx.emit(GroupUpdated(ctx.pubkey, await self._groups.info_of(gid)))
        return gid

    async def _self_update_later(self, gid: bytes) -> None:
        await self._join_later(gid)

    async def _join_later(self, gid: bytes) -> GroupInfo:
        """Once caught up (later commits first), the post-join self-update."""
        if self.wait_caught_up is not None:
            await self.wait_caught_up()
        try:
            return await self._groups.self_update(gid)
        except AppError as exc:  # joined all the same; upkeep retries the self-update
            log.warning("post-join self-update failed: %s", exc)
            return await self._groups.info_of(gid)

    async def decline(self, ref: str) -> InviteInfo:
        ctx = self._ctx
        invite = await self.resolve(ref)
        info = await self._info(invite)
        await ctx.db.transact(
            _decide, invite.wrapper_event_id, invite.mls_group_id, InviteState.DECLINED, ctx.now()
        )
        ctx.emit(InviteRemoved(ctx.pubkey, invite.wrapper_event_id, "declined"))
        return info

    async def _info(self, invite: Invite) -> InviteInfo:
        ctx = self._ctx
        members = 0
        description = ""
        if invite.mls_group_id is not None:
            group = await ctx.db.run(groups_repo.get, invite.mls_group_id)
            if group is not None:
                description = group.metadata.description
                rows = await ctx.db.run(groups_repo.members, invite.mls_group_id)
                members = len({r.pubkey for r in rows})
        return InviteInfo(
            invite.wrapper_event_id,
            invite.nostr_group_id,
            invite.group_name,
            invite.inviter,
            await self._contacts.name_of(invite.inviter),
            invite.received_at,
            str(invite.state),
            members,
            description,
            PublicKey.from_hex(invite.inviter).to_bech32(),
        )


def _pending_rows(
    group: MarmotGroup, invite: WelcomeInvite, wrapper_id: str, ref: bytes, now: int
) -> tuple[NewGroup, Invite]:
    """The pending group and the invite row a joined Welcome becomes."""
    data = group.data
    new = NewGroup(
        group.mls_group_id,
        engine.metadata(data),
        Lifecycle.PENDING,
        group.epoch,
        group.own_leaf,
        engine.dump(group),
        engine.members(group),
    )
    row = Invite(
        wrapper_id,
        invite.rumor.id,
        invite.inviter,
        b64decode(invite.rumor.content),
        now,
        group.mls_group_id,
        data.nostr_group_id_hex,
        data.name,
        ref,
        invite.relays,
    )
    return new, row


def _store_invite(conn: Connection, new: NewGroup, invite: Invite, wrap: Event, now: int) -> None:
    groups_repo.create(conn, new, now=now)
    invites_repo.add(conn, invite)
    if invite.key_package_ref is not None:
        kp_repo.mark_consumed(conn, invite.key_package_ref, now=now)
    processed_repo.mark(
        conn,
        wrap.id,
        kind=wrap.kind,
        created_at=wrap.created_at,
        outcome=Outcome.PROCESSED,
        now=now,
        reason="invite",
        mls_group_id=new.mls_group_id,
    )


def _decide(
    conn: Connection, wrapper_id: str, gid: bytes | None, state: InviteState, now: int
) -> None:
    invites_repo.decide(conn, wrapper_id, state, now=now)
    if gid is None:
        return
    if state is InviteState.ACCEPTED:
        groups_repo.set_state(conn, gid, Lifecycle.ACTIVE, now=now)
    else:
        groups_repo.delete(conn, gid)
