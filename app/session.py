"""AccountSession: everything one unlocked account runs, and its lifecycle.

    session = await services.unlock(pubkey, passphrase)   # database open, nothing on the wire
    await session.start()          # connect, publish/repair lists, catch up, stay live
    await session.groups.send(...) # the services are attributes
    report = await session.sync()  # or: one catch-up + flush, for the CLI's `sync`
    await session.close()

A session owns its relay pool (the account's key answers NIP-42 AUTH), its outbox and its
sync engine; its background tasks (outbox sender, maintenance) run until `close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from app.accounts import Unlocked
from app.bus import EventBus
from app.chat_flags import ChatFlags
from app.clock import Clock
from app.config import AppConfig
from app.contacts import Contacts
from app.context import Context
from app.device_map import DeviceMap
from app.devices import Devices
from app.disappearing import SWEEP_SECONDS, Disappearing
from app.dm.service import DarkMatter
from app.events import AccountLocked, ErrorRaised, SignerStatusChanged
from app.group_image import GroupImages
from app.group_inbox import GroupInbox
from app.groups import Groups
from app.http import HttpClient
from app.invites import Invites
from app.key_packages import KeyPackages
from app.media import Media
from app.media_servers import MediaServers
from app.messages import Messages
from app.models import SyncReport
from app.outbox import Outbox
from app.people import People
from app.push import Push
from app.relays import Relays
from app.remote_signing import pool_options
from app.sync import Incoming, Purpose, SyncEngine
from nostr.errors import NostrError
from nostr.keys import Rng
from nostr.kinds import Kind
from nostr.relay import RelayPool, RelayStatus, RelayStatusChanged
from nostr.relay.remote_signer import SignerState, SignerStatus
from storage.repos import accounts as accounts_repo

log = logging.getLogger(__name__)

KEY_PACKAGE_UPKEEP = 600.0
RELAY_LIST_REPAIR = 1800.0
_LAST_REPAIR = "relay_lists_checked_at"
_DISCOVERY_KINDS = {Kind.RELAY_LIST, Kind.INBOX_RELAYS, Kind.KEY_PACKAGE_RELAYS}


class AccountSession:
    def __init__(
        self, unlocked: Unlocked, config: AppConfig, clock: Clock, rng: Rng, bus: EventBus
    ) -> None:
        self.account = unlocked
        self.pubkey = unlocked.pubkey
        self.pool = _pool(unlocked, config)
        self.relays: Relays
        outbox = Outbox(
            unlocked.db,
            self.pool,
            clock,
            publish_timeout=config.timeouts.publish,
            # Relays needs the context the outbox is part of, so it is looked up late.
            hold=lambda urls: self.relays.hold(urls),  # noqa: PLW0108
            release=lambda urls: self.relays.release(urls),  # noqa: PLW0108
            reachable=lambda urls: self.relays.connected(urls),  # noqa: PLW0108
            signer=unlocked.signer,
        )
        self.ctx = Context(
            config,
            clock,
            rng,
            bus,
            unlocked.db,
            unlocked.pubkey,
            unlocked.signer,
            self.pool,
            outbox,
            deferred_signing=unlocked.remote is not None,
        )
        self.outbox = outbox
        self.relays = Relays(self.ctx)
        self.people = People(self.ctx, HttpClient(config.http))
        self.contacts = Contacts(self.ctx, self.relays, self.people)
        self.key_packages = KeyPackages(self.ctx, self.relays)
        device_map = DeviceMap(self.ctx, self.key_packages)
        self.groups = Groups(self.ctx, self.relays, self.contacts, self.key_packages, device_map)
        self.messages = Messages(self.ctx, self.groups)
        self.dark_matter = DarkMatter(self.ctx, self.relays, unlocked.secret)
        self.groups.dark_matter = self.dark_matter
        self.dark_matter.groups = self.groups
        self.dark_matter.messages = self.messages
        servers = MediaServers(self.ctx, self.relays)
        self.media = Media(self.ctx, self.groups, self.messages, servers)
        self.group_images = GroupImages(self.ctx, self.groups, servers)
        self.disappearing = Disappearing(self.ctx)
        self.chat_flags = ChatFlags(self.ctx, self.groups)
        self.invites = Invites(self.ctx, self.groups, self.contacts, self.key_packages)
        self.devices = Devices(self.ctx, self.relays, self.key_packages, self.groups, device_map)
        self.group_inbox = GroupInbox(self.ctx, self.groups, self.messages)
        self.push = Push(self.ctx, self.groups, self.relays, self.group_inbox)
        self.sync_engine = SyncEngine(
            self.ctx,
            self.relays,
            self._route,
            groups=self.groups.sync_targets,
            authors=self.contacts.authors,
        )
        self._wire()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._live = False
        self._closed = False
        self._signer_down = False
        if unlocked.remote is not None:
            unlocked.remote.add_status_listener(self._signer_status)

    def _wire(self) -> None:
        self.groups.on_targets_changed = self._targets_changed
        self.invites.wait_caught_up = self._caught_up

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Load local state; nothing touches the network yet."""
        await self.relays.load()
        await self.groups.load()

    async def start(self, *, live: bool = True) -> None:
        """Connect, publish what setup needs, catch up; ``live`` keeps subscriptions open."""
        if self._started:
            return
        self._started = True
        self._live = live
        self.pool.add_status_listener(self.relays.on_status)
        self.pool.add_status_listener(self.sync_engine.on_status)
        self.pool.add_status_listener(self._relay_status)
        if self.account.remote is not None:  # front ends learn the state it is already in
            self._signer_status(self.account.remote.status)
            if live:  # and whether it answers: one ping per window start, not per command
                self._spawn(self._ping_signer(), "remote signer")
        await self.relays.sync_pool()
        self._spawn(self.outbox.run(), "outbox")
        self._spawn(self.media.run(), "uploads")
        await self._guarded(self.disappearing.sweep(), "disappearing messages")
        await self.setup()
        await self._guarded(self.group_inbox.resume(), "re-sending")
        await self._guarded(self.dark_matter.resume(), "re-sending")
        await self.sync_engine.start(live=live)
        self.push.start()
        if live:
            self._spawn(self._every(KEY_PACKAGE_UPKEEP, self.key_packages.upkeep), "key packages")
            self._spawn(
                self._every(KEY_PACKAGE_UPKEEP, self.groups.self_update_due), "self-updates"
            )
            self._spawn(self._every(RELAY_LIST_REPAIR, self._repair), "relay lists")
            self._spawn(
                self._every(SWEEP_SECONDS, self.disappearing.sweep), "disappearing messages"
            )

    async def setup(self) -> None:
        """First-run and repair work: relay lists (checked at most every half hour, so a
        CLI command does not ask the relays each time), profile, a live key package."""
        last = await self.account.db.run(accounts_repo.get_setting, _LAST_REPAIR, 0)
        if not isinstance(last, int) or self.ctx.now() - last > RELAY_LIST_REPAIR:
            await self._guarded(self._repair(), "relay lists")
        await self._guarded(self.contacts.publish_profile_if_new(), "profile")
        await self._guarded(self.key_packages.upkeep(), "key packages")

    async def _repair(self) -> None:
        await self.relays.repair()
        if any(self.pool.status(url).is_connected for url in self.pool.relays):
            # A Blossom list chosen on another device (kind 10063); offline, not waited for.
            await self.media.servers.refresh()
        await self.account.db.run(accounts_repo.set_setting, _LAST_REPAIR, self.ctx.now())

    async def sync(self, timeout: float = 30.0) -> SyncReport:
        """Connect, catch up, process everything, flush the outbox (the CLI's ``sync``)."""
        started = time.monotonic()
        before = self.sync_engine.processed
        await self.start(live=False)
        caught_up = await self.sync_engine.idle(timeout)
        await self.flush(max(1.0, timeout - (time.monotonic() - started)))
        pending = len(await self.outbox.pending())
        return SyncReport(
            tuple(self.pool.relays),
            self.sync_engine.processed - before,
            caught_up,
            pending,
            round(time.monotonic() - started, 3),
        )

    async def flush(self, timeout: float = 15.0) -> int:
        """Publish every pending outbox entry now (followers included); returns how many."""
        try:
            async with asyncio.timeout(timeout):
                await self.push.settle()  # gossip and triggers still being queued
                await self.media.flush(timeout / 2)  # queued files become messages first
                return await self.outbox.flush(force=True)
        except TimeoutError:
            return 0

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.sync_engine.stop()
        await self.push.close()
        await self.ctx.cancel_tasks()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pool.close()
        if self.account.remote is not None:
            await self.account.remote.close()
        await self.account.db.close()
        self.ctx.emit(AccountLocked(self.pubkey))

    def _signer_status(self, status: SignerStatus) -> None:
        """The remote signer's state goes to the front ends; when it answers again after
        an outage, what waited for it (Welcomes to open, outbox entries) is retried now."""
        if self._closed:
            return
        self.ctx.emit(
            SignerStatusChanged(self.pubkey, status.state.value, status.detail, status.auth_url)
        )
        if status.state in (SignerState.OFFLINE, SignerState.REFUSED):
            if not self._signer_down and self._started:
                self._spawn(self._probe_signer(), "remote signer probe")
            self._signer_down = True
        elif status.state is SignerState.READY and self._signer_down and self._started:
            self._signer_down = False
            self._spawn(self.sync_engine.replay_waiting(), "events waiting for the signer")
            self._spawn(self._flush_outbox(), "outbox")

    async def _ping_signer(self) -> None:
        remote = self.account.remote
        assert remote is not None
        with contextlib.suppress(NostrError):  # its state says what happened
            await remote.ping()

    async def _probe_signer(self) -> None:
        """Ping a signer that stopped answering until it does: its READY retries what
        waited for it (nothing else may ask it for a while)."""
        remote = self.account.remote
        assert remote is not None
        pause = max(1.0, min(self.ctx.config.timeouts.reconnect_max, 30.0))
        while not self._closed and self._signer_down:
            await asyncio.sleep(pause)
            try:
                await remote.ping()
            except NostrError as exc:
                log.info("remote signer still unavailable: %s", exc)

    def _relay_status(self, change: RelayStatusChanged) -> None:
        """A relay (re)connected: what waits in the outbox goes now, not after its backoff
        (which grows to minutes while relays are unreachable)."""
        if change.status is RelayStatus.CONNECTED and not self._closed:
            self._spawn(self._flush_outbox(), "outbox")

    async def _flush_outbox(self) -> None:
        await self.outbox.flush(force=True)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(self._guarded(coro, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, coro: Awaitable[object], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a background task reports and the session carries on
            log.exception("%s failed", name)
            self.ctx.emit(ErrorRaised(self.pubkey, f"{name}: {exc}", name))

    async def _every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._guarded(job(), getattr(job, "__name__", "job"))

    # --- incoming events -------------------------------------------------------------

    async def _route(self, item: Incoming) -> None:
        event = item.event
        if item.purpose is Purpose.GROUPS and event.kind == Kind.MLS_GROUP_MESSAGE:
            await self.group_inbox.receive(event)
        elif item.purpose is Purpose.INBOX and event.kind == Kind.GIFT_WRAP:
            await self.invites.receive(event)
        elif event.kind == Kind.MLS_KEY_PACKAGE:
            await self.devices.map.remember_event(event)
        elif event.kind in _DISCOVERY_KINDS:
            await self.relays.remember(event)
        elif event.kind in (Kind.METADATA, Kind.FOLLOW_LIST):
            await self.contacts.remember(event)

    async def _targets_changed(self) -> None:
        """Groups joined or left: follow their relays and catch up the new ones."""
        self.relays.set_group_relays(await self.groups.all_relays())
        await self.relays.sync_pool()
        if self._started:
            if self._live:
                await self.sync_engine.resubscribe()
            for url in self.pool.relays:
                self.sync_engine.schedule_catch_up(url)

    async def _caught_up(self) -> bool:
        """Wait (bounded) until the running catch-ups are done (not from the sync worker)."""
        if not self._started:
            return True
        return await self.sync_engine.idle(self.ctx.config.timeouts.fetch * 2)


def _pool(unlocked: Unlocked, config: AppConfig) -> RelayPool:
    """The account's relay pool: its signer answers NIP-42 AUTH."""
    return RelayPool(signer=unlocked.signer, options=pool_options(config))
