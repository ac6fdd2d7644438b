"""Push notifications (MIP-05, mdk-core 0.8 "mip05-v1"): this account's side.

    status = await session.push.register("fcm", token, server_npub_or_hex, relay_hint)
    status = await session.push.status()      # registration (no token) + per-group view
    status = await session.push.unregister()

The registration (platform, device token, notification server, relay hint) lives in the
account database. With a relay hint it is *shareable*: our encrypted token goes to every
active group by a 447 — when the registration changes, when we create a group and when
we accept an invite (all three are one `reconcile`: a group whose share does not match
the current registration gets a 447, or a 449 once nothing is shareable). Leaving sends a
449 first; a declined invite never got our token. Which groups got which registration is
remembered (``push_shared``), so a restart does not share again.

The rest is wired from here into the other services without them knowing about MIP-05:
the group inbox hands us received 447/448/449 (`Gossip.received`), ``Groups.before_leave``
lets us withdraw first, and bus events tell us about new groups (`GroupUpdated`), finished
commits (stale tokens are dropped) and our queued chat messages (triggers, `Gossip.notify`).
"""

from __future__ import annotations

import asyncio
import logging

from app.context import Context
from app.errors import InvalidInput
from app.events import AppEvent, CommitRaceResolved, GroupRemoved, GroupUpdated, MessageQueued
from app.group_inbox import GroupInbox
from app.groups import Groups
from app.key_text import explain
from app.push_gossip import Gossip
from app.push_models import PushChanged, PushGroupInfo, PushRegistrationInfo, PushStatus
from app.push_policy import active_tokens, fingerprint
from app.relays import Relays
from marmot.errors import InvalidPushMessage, MarmotError
from marmot.push import (
    KIND_LIST,
    KIND_REMOVAL,
    KIND_REQUEST,
    Platform,
    PushToken,
    TokenTag,
    build_token_removal,
    build_token_request,
    encrypt_token,
)
from mls.errors import MlsError
from nostr.errors import DecodeError, NostrError
from nostr.keys import PublicKey
from nostr.relay_url import normalize_relay_url
from storage.repos import accounts as accounts_repo
from storage.repos import groups as groups_repo
from storage.repos import push as push_repo
from storage.rows import Group, GroupPushToken, PushPlatform, PushRegistration
from storage.rows import GroupState as Lifecycle

log = logging.getLogger(__name__)

SHARED = "push_shared"
"""Setting: ``{mls group id hex: fingerprint of the registration shared there}``."""
_PLATFORMS = {"apns": (PushPlatform.APNS, Platform.APNS), "fcm": (PushPlatform.FCM, Platform.FCM)}


def parse_registration(
    platform: str, token: str, server: str, relay_hint: str | None, now: int
) -> PushRegistration:
    """Check a registration as a user typed it; raises `InvalidInput`."""
    kind = _PLATFORMS.get(platform.strip().lower())
    if kind is None:
        raise InvalidInput("the platform is apns or fcm")
    try:
        device = PushToken.from_registration(kind[1], token.strip())
    except InvalidPushMessage as exc:
        raise InvalidInput(exc.reason) from None
    server = server.strip()
    try:
        key = (
            PublicKey.from_bech32(server)
            if server.startswith("npub1")
            else PublicKey.from_hex(server)
        )
    except NostrError:
        raise InvalidInput(f"the server: {explain(server, ('npub',))}") from None
    hint = None
    if relay_hint and relay_hint.strip():
        try:
            hint = normalize_relay_url(relay_hint.strip())
        except DecodeError as exc:
            raise InvalidInput(str(exc)) from None
    return PushRegistration(kind[0], device.device_token, key.hex, hint, now)


class Push:
    def __init__(self, ctx: Context, groups: Groups, relays: Relays, inbox: GroupInbox) -> None:
        self._ctx = ctx
        self._groups = groups
        self.gossip = Gossip(ctx, groups, relays)
        self._lock = asyncio.Lock()
        for kind in (KIND_REQUEST, KIND_LIST, KIND_REMOVAL):
            inbox.control[kind] = self.gossip.received
        groups.before_leave = self.before_leave
        self._unsubscribe = ctx.bus.subscribe(self._on_event)

    # --- the registration ----------------------------------------------------------------

    async def registration(self) -> PushRegistration | None:
        return await self._ctx.db.run(push_repo.registration)

    async def register(
        self, platform: str, token: str, server: str, relay_hint: str | None = None
    ) -> PushStatus:
        """Store (or replace) this device's registration and share it with every group."""
        new = parse_registration(platform, token, server, relay_hint, self._ctx.now())
        await self._ctx.db.run(push_repo.set_registration, new)
        await self.reconcile()
        self._ctx.emit(PushChanged(self._ctx.pubkey))
        return await self.status()

    async def unregister(self) -> PushStatus:
        """Forget the registration and withdraw our token from every group (449)."""
        await self._ctx.db.run(push_repo.set_registration, None)
        await self.reconcile()
        self._ctx.emit(PushChanged(self._ctx.pubkey))
        return await self.status()

    async def status(self) -> PushStatus:
        ctx = self._ctx
        reg = await self.registration()
        shared = await self._shared()
        groups = await ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
        views = []
        for group in groups:
            rows = await ctx.db.run(push_repo.tokens, group.mls_group_id)
            members = await self.gossip.members(group.mls_group_id)
            others = [r for r, _ in active_tokens(rows, members) if r.pubkey != ctx.pubkey]
            views.append(
                PushGroupInfo(
                    group.metadata.nostr_group_id,
                    group.metadata.name,
                    group.mls_group_id.hex() in shared,
                    len(others),
                )
            )
        return PushStatus(_registration_info(reg), tuple(views))

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Share with groups that joined while we were not running (after session start)."""
        self.gossip.spawn(self._reconcile_and_report(), "reconcile")

    async def settle(self) -> None:
        """Finish what is under way (shares, replies, triggers) before the session flushes."""
        await self.gossip.settle()

    async def close(self) -> None:
        self._unsubscribe()
        tasks = list(self.gossip.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- sharing -------------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Bring every active group in line with the registration; returns the 44x sent."""
        async with self._lock:
            reg = await self.registration()
            wanted = fingerprint(reg) if reg is not None and reg.relay_hint else None
            shared = await self._shared()
            active = await self._ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
            sent = 0
            for group in active:
                if group.profile != "mip":
                    continue  # MIP-05 tokens are a Profile A thing (marmot-push-v1 is not here)
                key = group.mls_group_id.hex()
                have = shared.get(key)
                if have == wanted:
                    continue
                if wanted is not None and reg is not None and await self._share(group, reg):
                    shared[key] = wanted
                    sent += 1
                elif wanted is None:
                    await self._withdraw(group)
                    del shared[key]
                    sent += 1
            live = {g.mls_group_id.hex() for g in active}
            await self._save_shared({k: v for k, v in shared.items() if k in live})
            return sent

    async def _reconcile_and_report(self) -> None:
        if await self.reconcile():
            self._ctx.emit(PushChanged(self._ctx.pubkey))

    async def _share(self, group: Group, reg: PushRegistration) -> bool:
        """A 447 with a freshly encrypted token; our own leaf's row caches it for 448s."""
        ctx = self._ctx
        gid = group.mls_group_id
        assert reg.relay_hint is not None
        server = PublicKey.from_hex(reg.server_pubkey)
        platform = _PLATFORMS[str(reg.platform)][1]
        encrypted = encrypt_token(server, PushToken(platform, reg.device_token), rng=ctx.rng)
        tag = TokenTag(encrypted, server, reg.relay_hint)
        try:
            await self.gossip.send(gid, build_token_request(ctx.pubkey, ctx.now(), [tag]))
        except (MarmotError, MlsError) as exc:
            log.warning("MIP-05: token not shared with a group: %s", exc)
            return False
        if group.our_leaf is not None:
            row = GroupPushToken(
                gid, group.our_leaf, ctx.pubkey, encrypted, server.hex, reg.relay_hint, ctx.now()
            )
            await ctx.db.run(push_repo.put_token, row)
        return True

    async def _withdraw(self, group: Group) -> None:
        """A 449 (while we are still in the group) and our own cached token goes."""
        ctx = self._ctx
        gid = group.mls_group_id
        if group.state is Lifecycle.ACTIVE:
            try:
                await self.gossip.send(gid, build_token_removal(ctx.pubkey, ctx.now()))
            except (MarmotError, MlsError) as exc:
                log.warning("MIP-05: token removal not sent: %s", exc)
        if group.our_leaf is not None:
            await ctx.db.run(push_repo.remove_token, gid, group.our_leaf)

    async def before_leave(self, gid: bytes) -> None:
        """We are leaving: a 449 goes out before our leave request."""
        async with self._lock:
            shared = await self._shared()
            if gid.hex() not in shared:
                return
            await self._withdraw(await self._groups.store.get(gid))
            del shared[gid.hex()]
            await self._save_shared(shared)

    async def _shared(self) -> dict[str, str]:
        value = await self._ctx.db.run(accounts_repo.get_setting, SHARED, {})
        return dict(value) if isinstance(value, dict) else {}

    async def _save_shared(self, shared: dict[str, str]) -> None:
        await self._ctx.db.run(accounts_repo.set_setting, SHARED, shared or None)

    # --- what the other services tell us -------------------------------------------------

    def _on_event(self, event: AppEvent) -> None:
        if event.account != self._ctx.pubkey:
            return
        if isinstance(event, GroupUpdated):
            if event.group.state == str(Lifecycle.ACTIVE):
                self.gossip.spawn(self._reconcile_and_report(), "reconcile")
            self.gossip.spawn(self._drop_stale(event.group.id), "stale tokens")
        elif isinstance(event, GroupRemoved):
            self.gossip.spawn(self._reconcile_and_report(), "reconcile")
        elif isinstance(event, CommitRaceResolved):
            self.gossip.spawn(self._share_again(event.group_id), "reshare")
        elif isinstance(event, MessageQueued) and event.message.event_id:
            message = event.message
            assert message.event_id is not None
            self.gossip.spawn(self._notify(message.group_id, message.event_id), "triggers")

    async def _share_again(self, nostr_group_id: str) -> None:
        """A lost commit race voided what we sent on the losing branch, our 447 perhaps."""
        group = await self._groups.store.by_nostr_id(nostr_group_id)
        if group is None:
            return
        async with self._lock:
            shared = await self._shared()
            if shared.pop(group.mls_group_id.hex(), None) is None:
                return
            await self._save_shared(shared)
        await self._reconcile_and_report()

    async def _notify(self, group_id: str, event_id: str) -> None:
        await self.gossip.notify(group_id, event_id)

    async def _drop_stale(self, nostr_group_id: str) -> None:
        """After a commit: tokens of leaves that left or changed identity go."""
        group = await self._groups.store.by_nostr_id(nostr_group_id)
        if group is None:
            return
        members = await self.gossip.members(group.mls_group_id)
        dropped = await self._ctx.db.run(push_repo.drop_stale, group.mls_group_id, members)
        if dropped:
            self._ctx.emit(PushChanged(self._ctx.pubkey, nostr_group_id))


def _registration_info(reg: PushRegistration | None) -> PushRegistrationInfo | None:
    if reg is None:
        return None
    text = reg.device_token.hex() if reg.platform is PushPlatform.APNS else _text(reg)
    hint = f"{text[:4]}…{text[-4:]}" if len(text) > 8 else "…"
    return PushRegistrationInfo(
        str(reg.platform),
        reg.server_pubkey,
        reg.relay_hint,
        hint,
        reg.updated_at,
        reg.relay_hint is not None,
    )


def _text(reg: PushRegistration) -> str:
    return reg.device_token.decode(errors="replace")
