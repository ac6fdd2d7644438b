"""`DarkMatter`: the Profile B side of the group and message services.

`app.groups.Groups`, `app.messages.Messages`, `app.group_inbox.GroupInbox` and
`app.invites.Invites` call in here for a group whose stored profile is ``darkmatter``.
Each operation builds its MLS change on the canonical tip, then stores it in one
transaction (`app.dm.apply`); our commits wait for a relay's OK before they join the tree
(publish, acknowledge, apply), and the Welcomes of an add go out behind their commit.

Every leaf proves its account with a BIP-340 signature (0x8009) over a kind-450 event,
which the account's signer makes, local or remote (NIP-46). Only a group in the July
draft's form (with the `dm` client) needs the key here: that proof signs a bare digest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from app import timeline
from app.contacts import Person
from app.context import Context
from app.dm import apply, core, send
from app.dm import media as dm_media
from app.dm.core import DM_COMMIT, Effects, Env
from app.dm.key_packages import InviteeB, found_invitees, invitees_b
from app.dm.tree import commit_changes, dump_state, members, metadata, to_rows
from app.errors import InvalidInput, InviteTooLarge, NetworkError, NotAllowed, translate
from app.events import (
    GroupRemoved,
    GroupUpdated,
    MembersChanged,
    MessageReceived,
    MessageStatusChanged,
    MessageUpdated,
)
from app.group_invitees import WELCOME
from app.group_records import is_pending_commit
from app.message_records import MediaSend
from app.models import GroupInfo, MessageInfo
from app.outbox import Attempt
from app.relays import Relays
from marmot.errors import MarmotError
from marmot.profile_b.branches import BranchTree
from marmot.profile_b.components import (
    AdminPolicy,
    ComponentId,
    GroupBlossomImage,
    GroupProfile,
    MessageRetention,
)
from marmot.profile_b.group import (
    Founding,
    GroupSettings,
    create_group_b,
    found_group_b,
    group_view,
    invite_b,
    invitees_proof_form,
    remove_b,
    update_components_b,
)
from marmot.profile_b.key_package_event import ParsedKeyPackageEvent
from marmot.profile_b.proofs import ProofForm
from marmot.profile_b.signed_key_package import begin_key_package_b, finish_key_package_b
from marmot.profile_b.transport import MAX_WELCOME_RELAYS, welcome_rumor_b
from marmot.profiles import Profile
from mls.errors import MlsError
from mls.group import GroupState, PendingCommit, propose_self_remove
from mls.messages import KeyPackage, Welcome
from nostr.errors import UsageError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, SecretKey
from nostr.nip59 import seal_with, wrap_seal
from storage import Connection, OutgoingEvent, record_outgoing
from storage.repos import branches as branches_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.rows import DeliveryStatus, Group, NewGroup, OutboxEntry, Outcome
from storage.rows import GroupState as Lifecycle

if TYPE_CHECKING:
    from app.groups import Groups
    from app.messages import Messages

log = logging.getLogger(__name__)
T = TypeVar("T")

DARKMATTER = Profile.B.value
_ATTEMPTS = 3
QUIET = 1.0
"""Seconds without a reorg before our withdrawn messages are sent again."""
Build = Callable[[GroupState], PendingCommit]


class DarkMatter:
    def __init__(self, ctx: Context, relays: Relays, secret: SecretKey | None) -> None:
        self._ctx = ctx
        self._relays = relays
        self._secret = secret
        self.groups: Groups = None  # type: ignore[assignment]  # set by the session
        self.messages: Messages = None  # type: ignore[assignment]  # set by the session
        self.media_servers: Callable[[], Awaitable[tuple[str, ...]]] = _no_servers
        self._quiet_at: dict[bytes, float] = {}
        self._resending: set[bytes] = set()
        ctx.outbox.register(DM_COMMIT, _CommitHook(self))

    def _env(self) -> Env:
        return Env(self._ctx.pubkey, self._ctx.now(), self._ctx.rng)

    def _key(self) -> SecretKey:
        if self._secret is None:
            raise NotAllowed(
                "a group with this client (the July 2026 Dark Matter draft) needs this"
                " account's key on this device: a remote signer cannot make its proofs"
            )
        return self._secret

    async def _found(
        self, settings: GroupSettings, kps: Sequence[KeyPackage], form: ProofForm
    ) -> Founding:
        """The founding state; our leaf's proof comes from the account's signer."""
        ctx = self._ctx
        if form is ProofForm.DRAFT:
            secret = self._key()
            return _call(
                lambda: create_group_b(secret, settings, kps, now=ctx.now(), rng=ctx.rng, form=form)
            )
        draft = begin_key_package_b(ctx.public_key, now=ctx.now(), rng=ctx.rng)
        signed = await ctx.sign(draft.proof_event)
        bundle = _call(lambda: finish_key_package_b(draft, signed.sig, rng=ctx.rng))
        return _call(
            lambda: found_group_b(ctx.public_key, bundle, settings, kps, now=ctx.now(), rng=ctx.rng)
        )

    # --- creating ------------------------------------------------------------------------

    async def create(
        self,
        name: str,
        people: Sequence[Person],
        description: str,
        *,
        found: Sequence[ParsedKeyPackageEvent] | None = None,
    ) -> GroupInfo:
        """``found``: the invitees' key packages when the caller already chose them."""
        ctx = self._ctx
        if found is None:
            invitees = await invitees_b(ctx, self._relays, people)
        else:
            invitees = await found_invitees(self._relays, people, found)
        relays = self._relays.mine[:MAX_WELCOME_RELAYS]  # the routing component's bound
        kps = [i.key_package.key_package for i in invitees]
        form = _call(lambda: invitees_proof_form(kps, now=ctx.now()))
        media = dm_media.new_group_policy(await self.media_servers(), form)
        settings = GroupSettings(name, description, (), ctx.rng(32), relays, media)
        founding = await self._found(settings, kps, form)
        # The founding commit is never published: the invitees join at the state after it.
        state = founding.state if founding.pending is None else founding.pending.next_state
        wraps = () if founding.pending is None else await self._wraps(founding.pending, invitees)
        gid = state.group_id
        new = NewGroup(
            gid,
            metadata(group_view(state)),
            Lifecycle.ACTIVE,
            state.epoch,
            state.own_leaf,
            dump_state(state),
            members(state),
            profile=DARKMATTER,
        )
        tree = BranchTree[UnsignedEvent](state)
        added = [timeline.Change(timeline.ADDED, ctx.pubkey, i.pubkey) for i in invitees]

        def store(conn: Connection) -> None:
            now = ctx.now()
            groups_repo.create(conn, new, now=now)
            branches_repo.save_tree(conn, gid, to_rows(tree))
            if wraps:
                record_outgoing(conn, wraps, now=now, mls_group_id=gid)
            timeline.record(conn, gid, added, f"created:{gid.hex()}", at=now, now=now)

        await ctx.db.transact(store)
        ctx.outbox.kick()
        await self.groups.start_following(gid, ctx.now())
        info = await self.groups.info_of(gid)
        ctx.emit(GroupUpdated(ctx.pubkey, info))
        return info

    async def _wraps(
        self, pending: PendingCommit, invitees: Sequence[InviteeB]
    ) -> tuple[OutgoingEvent, ...]:
        """One gift-wrapped 444 per invitee, sealed through the account's signer (local or
        remote: adding members needs no key on this device)."""
        ctx = self._ctx
        routing = group_view(pending.next_state).routing
        if pending.welcome is None or not isinstance(pending.welcome.body, Welcome):
            raise NotAllowed("this change adds nobody")
        assert routing is not None  # every Profile B group of ours has its routing
        now = ctx.now()
        out = []
        for invitee in invitees:
            to = PublicKey.from_hex(invitee.pubkey)
            rumor = welcome_rumor_b(
                ctx.public_key,
                pending.welcome.body,
                invitee.key_package.event_id,
                routing.relays,
                created_at=now,
            )
            size = len(list(pending.next_state.members()))
            try:
                sealed = await seal_with(rumor, ctx.signer, to, now=now, rng=ctx.rng)
            except UsageError as exc:  # NIP-44 encrypts at most 65,535 bytes
                raise InviteTooLarge(size, None, ctx.config.max_event_size) from exc
            wrap = wrap_seal(sealed, to, now=now, rng=ctx.rng)
            text = wrap.to_json()
            if len(text.encode()) > ctx.config.max_event_size:
                raise InviteTooLarge(size, len(text.encode()), ctx.config.max_event_size)
            inbox = invitee.inbox or self._relays.mine
            out.append(OutgoingEvent(wrap.id, text, inbox, WELCOME))
        return tuple(out)

    # --- changing ---------------------------------------------------------------------------

    async def add_members(self, group: Group, people: Sequence[Person]) -> GroupInfo:
        ctx = self._ctx
        present = {m.pubkey for m in await ctx.db.run(groups_repo.members, group.mls_group_id)}
        if already := [p.pubkey[:12] for p in people if p.pubkey in present]:
            raise InvalidInput(f"already members: {', '.join(already)}")
        invitees = await invitees_b(ctx, self._relays, people)
        kps = [i.key_package.key_package for i in invitees]
        return await self._change(
            group,
            lambda s: invite_b(s, kps, now=ctx.now(), rng=ctx.rng),
            welcomes=lambda p: self._wraps(p, invitees),
        )

    async def remove_members(self, group: Group, pubkeys: Sequence[str]) -> GroupInfo:
        accounts = [bytes.fromhex(p) for p in pubkeys]
        return await self._change(group, lambda s: remove_b(s, accounts, rng=self._ctx.rng))

    async def rename(self, group: Group, name: str | None, description: str | None) -> GroupInfo:
        def build(state: GroupState) -> PendingCommit:
            old = group_view(state).profile
            new = GroupProfile(
                old.name if name is None else name,
                old.description if description is None else description,
            )
            changes: dict[int, bytes | None] = {ComponentId.GROUP_PROFILE: new.encode()}
            return update_components_b(state, changes, rng=self._ctx.rng)

        return await self._change(group, build)

    async def set_retention(self, group: Group, seconds: int) -> GroupInfo:
        """Disappearing messages (0x8005): kept ``seconds`` after they were written, 0 off."""
        retention = MessageRetention(seconds).encode()
        changes: dict[int, bytes | None] = {ComponentId.MESSAGE_RETENTION: retention}
        return await self._change(
            group, lambda s: update_components_b(s, changes, rng=self._ctx.rng)
        )

    async def set_image(self, group: Group, image: GroupBlossomImage) -> GroupInfo:
        """Commit the group picture component 0x8002 (an empty one clears it, as MDK does)."""
        changes: dict[int, bytes | None] = {ComponentId.GROUP_BLOSSOM_IMAGE: image.encode()}
        return await self._change(
            group, lambda s: update_components_b(s, changes, rng=self._ctx.rng)
        )

    async def set_admin(self, group: Group, pubkey: str, admin: bool) -> GroupInfo:
        def build(state: GroupState) -> PendingCommit:
            admins = set(group_view(state).admins)
            (admins.add if admin else admins.discard)(bytes.fromhex(pubkey))
            policy = AdminPolicy.of(sorted(admins)).encode()
            changes: dict[int, bytes | None] = {ComponentId.ADMIN_POLICY: policy}
            return update_components_b(state, changes, rng=self._ctx.rng)

        return await self._change(group, build)

    async def leave(self, group: Group) -> GroupInfo:
        """A member asks to leave (SelfRemove; another member commits it). An admin hands
        over first: their own rights go in a commit, unless they are the only admin."""
        ctx = self._ctx
        gid = group.mls_group_id
        if ctx.pubkey in group.metadata.admins:
            if len(group.metadata.admins) == 1:
                raise NotAllowed("make another member an admin before you leave")
            await self.set_admin(group, ctx.pubkey, False)
        rng = ctx.rng
        fx = await ctx.db.transact(
            send.send_proposal, gid, self._env(), lambda s: propose_self_remove(s, rng=rng)
        )
        ctx.outbox.kick()
        if fx.entry_id is not None:
            await ctx.outbox.wait(fx.entry_id, ctx.config.timeouts.publish * 2)
        return await self.groups.info_of(gid)

    async def _change(
        self,
        group: Group,
        build: Build,
        *,
        welcomes: Callable[[PendingCommit], Awaitable[Sequence[OutgoingEvent]]] | None = None,
    ) -> GroupInfo:
        """Build on the tip, queue it (rebuilt if the tip moved meanwhile), wait for a
        relay's OK, which merges it (`_CommitHook`)."""
        ctx = self._ctx
        gid = group.mls_group_id
        if group.state is not Lifecycle.ACTIVE:
            raise NotAllowed("this group is not active")
        entry_id = None
        for _ in range(_ATTEMPTS):
            opened = await ctx.db.run(core.open_tree, gid)
            if await ctx.db.run(groups_repo.pending_commit, gid) is not None:
                raise NotAllowed("a change to this group is still being sent; try again shortly")
            base = opened.tree.canonical.state
            pending = _call(lambda: build(base))  # noqa: B023 (called at once)
            changes = commit_changes(base, pending.summary, pending.next_state)
            followers = () if welcomes is None else tuple(await welcomes(pending))
            entry_id = await ctx.db.transact(
                send.queue_change,
                gid,
                opened.canonical_key,
                pending,
                changes=changes,
                followers=followers,
                env=self._env(),
            )
            if entry_id is not None:
                break
        if entry_id is None:
            raise NotAllowed("the group kept changing; try again")
        ctx.outbox.kick()
        entry = await ctx.outbox.wait(entry_id, ctx.config.timeouts.publish * 2)
        if entry is None:
            raise NetworkError("the change was not accepted by a relay yet; it will be retried")
        if not entry.accepted_by:
            raise NetworkError(f"the change was refused: {entry.last_error or 'no relay took it'}")
        return await self.groups.info_of(gid)

    # --- messages ------------------------------------------------------------------------------

    async def send_rumor(
        self,
        group: Group,
        rumor: UnsignedEvent,
        *,
        again: bool = False,
        media: MediaSend | None = None,
    ) -> int:
        """Our payload into the group (``again``: a stored message of ours, re-sent in a
        new 445; ``media``: attachments sealed for the tip); returns its outbox entry id."""
        ctx = self._ctx
        try:
            fx = await ctx.db.transact(
                send.send_payload,
                group.mls_group_id,
                rumor,
                self._env(),
                again=again,
                media=media,
            )
        except (MlsError, MarmotError) as exc:
            raise translate(exc) from exc
        assert fx.entry_id is not None
        await self.announce(group.mls_group_id, fx)
        return fx.entry_id

    # --- receiving ---------------------------------------------------------------------------

    async def receive(self, group: Group, event: Event) -> None:
        ctx = self._ctx
        if group.state is Lifecycle.PENDING:
            return  # not marked: fetched again once the invite is accepted
        if group.state is not Lifecycle.ACTIVE:
            await ctx.mark(event, Outcome.FAILED, "not an active group of ours")
            return
        fx = await ctx.db.transact(apply.receive, group.mls_group_id, event, self._env())
        await self.announce(group.mls_group_id, fx, before=group)

    async def announce(self, gid: bytes, fx: Effects, *, before: Group | None = None) -> None:
        """Tell the front ends what a transaction changed."""
        ctx = self._ctx
        if fx.queued:
            ctx.outbox.kick()
        group = await self.groups.store.get(gid)
        nostr_id = group.metadata.nostr_group_id
        for rumor_id in fx.hidden:
            ctx.emit(MessageStatusChanged(ctx.pubkey, nostr_id, rumor_id, "invalidated"))
        for seq in fx.seqs:
            row = await ctx.db.run(messages_repo.by_seq, seq)
            if row is None or row.status is DeliveryStatus.INVALIDATED:
                continue
            if row.kind == timeline.TIMELINE:
                info: MessageInfo | None = timeline.info_of(row, nostr_id, ctx.pubkey)
            elif row.kind == 9 and row.author != ctx.pubkey:
                info = await self.messages.info_by_seq(seq)
            else:
                info = None
            if info is not None:
                ctx.emit(MessageReceived(ctx.pubkey, info))
        for target in dict.fromkeys(fx.targets):
            updated = await self.messages.info_by_rumor(gid, target)
            if updated is not None:
                ctx.emit(MessageUpdated(ctx.pubkey, updated))
        if fx.changed:
            await self._changed(gid, before)
        if fx.reorg:
            self._resend_when_quiet(gid)

    # --- our messages a reorg withdrew ------------------------------------------------------

    def _resend_when_quiet(self, gid: bytes) -> None:
        """Once the group has had no reorg for `QUIET` seconds (MDK's settlement window),
        our withdrawn messages go out on the branch that won."""
        self._quiet_at[gid] = asyncio.get_running_loop().time() + QUIET
        if gid not in self._resending:
            self._resending.add(gid)
            self._ctx.spawn(self._resend_later(gid), "re-sending withdrawn messages")

    async def _resend_later(self, gid: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (wait := self._quiet_at[gid] - loop.time()) > 0:
                await asyncio.sleep(wait)
            await self._resend(gid)
        finally:
            self._resending.discard(gid)

    async def _resend(self, gid: bytes) -> None:
        ctx = self._ctx
        fx = await ctx.db.transact(core.resend_withdrawn, gid, self._env())
        await self.announce(gid, fx)  # each as updated: shown again, "sending"

    async def resume(self) -> None:
        """At start: what a reorg withdrew before the last stop goes out now."""
        groups = await self._ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
        for group in groups:
            if group.profile == DARKMATTER:
                await self._resend(group.mls_group_id)

    async def _changed(self, gid: bytes, before: Group | None) -> None:
        ctx = self._ctx
        info = await self.groups.info_of(gid)
        ctx.emit(MembersChanged(ctx.pubkey, info))
        ctx.emit(GroupUpdated(ctx.pubkey, info))
        if info.state != str(Lifecycle.ACTIVE):
            ctx.emit(GroupRemoved(ctx.pubkey, info.id, "removed"))
        if before is None or before.metadata.relays != info.relays or info.state != "active":
            await self.groups.targets_changed()


async def _no_servers() -> tuple[str, ...]:
    return ()  # until the session hands over its media servers (`MediaServers.mine`)


def _call(op: Callable[[], T]) -> T:
    try:
        return op()
    except (MarmotError, MlsError) as exc:
        raise translate(exc) from exc


class _CommitHook:
    """Our commit was accepted: it joins the tree in the transaction that marks it sent."""

    def __init__(self, service: DarkMatter) -> None:
        self._service = service

    def should_send(self, conn: Connection, entry: OutboxEntry) -> bool:
        return is_pending_commit(conn, entry)

    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        gid = entry.mls_group_id
        if gid is None:
            return None
        before = groups_repo.get(conn, gid)
        env = Env(self._service._ctx.pubkey, now, self._service._ctx.rng)
        fx = apply.merge_commit(conn, gid, Event.from_json(entry.event_json), env)
        return None if fx is None else (gid, before, fx)

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        if attempt.final and entry.mls_group_id is not None:
            apply.drop_pending(conn, entry.mls_group_id, entry.event_id, now)
        return None

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        if result is None:
            return
        gid, before, fx = result
        self._service._ctx.outbox.kick()  # the Welcomes behind it are due now
        self._service._ctx.spawn(self._service.announce(gid, fx, before=before), "dm commit")


__all__ = ["DARKMATTER", "QUIET", "DarkMatter"]
