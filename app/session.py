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
import logging
import time
from collections.abc import Awaitable, Callable

from app.accounts import Unlocked
from app.bus import EventBus
from app.clock import Clock
from app.config import AppConfig
from app.contacts import Contacts
from app.context import Context
from app.events import AccountLocked, ErrorRaised
from app.key_packages import KeyPackages
from app.models import SyncReport
from app.outbox import Outbox
from app.relays import Relays
from app.sync import GroupTarget, Incoming, SyncEngine
from nostr.keys import Rng
from nostr.kinds import Kind
from nostr.relay import PoolOptions, RelayPool
from nostr.signer import KeySigner

log = logging.getLogger(__name__)

KEY_PACKAGE_UPKEEP = 600.0
RELAY_LIST_REPAIR = 1800.0
_DISCOVERY_KINDS = {Kind.RELAY_LIST, Kind.INBOX_RELAYS, Kind.KEY_PACKAGE_RELAYS}


class AccountSession:
    def __init__(
        self, unlocked: Unlocked, config: AppConfig, clock: Clock, rng: Rng, bus: EventBus
    ) -> None:
        self.account = unlocked
        self.pubkey = unlocked.pubkey
        options = PoolOptions(
            publish_timeout=config.timeouts.publish, connect_timeout=config.timeouts.connect
        )
        self.pool = RelayPool(signer=KeySigner(unlocked.secret, rng=rng), options=options)
        self.relays: Relays
        outbox = Outbox(
            unlocked.db,
            self.pool,
            clock,
            publish_timeout=config.timeouts.publish,
            # Relays needs the context the outbox is part of, so it is looked up late.
            hold=lambda urls: self.relays.hold(urls),  # noqa: PLW0108
            release=lambda urls: self.relays.release(urls),  # noqa: PLW0108
        )
        self.ctx = Context(
            config,
            clock,
            rng,
            bus,
            unlocked.db,
            unlocked.pubkey,
            unlocked.secret,
            self.pool,
            outbox,
        )
        self.outbox = outbox
        self.relays = Relays(self.ctx)
        self.contacts = Contacts(self.ctx, self.relays)
        self.key_packages = KeyPackages(self.ctx, self.relays)
        self.sync_engine = SyncEngine(
            self.ctx,
            self.relays,
            self._route,
            groups=_no_groups,
            authors=self.contacts.authors,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._closed = False

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Load local state; nothing touches the network yet."""
        await self.relays.load()

    async def start(self, *, live: bool = True) -> None:
        """Connect, publish what setup needs, catch up; ``live`` keeps subscriptions open."""
        if self._started:
            return
        self._started = True
        self.pool.add_status_listener(self.relays.on_status)
        self.pool.add_status_listener(self.sync_engine.on_status)
        await self.relays.sync_pool()
        self._spawn(self.outbox.run(), "outbox")
        await self.setup()
        await self.sync_engine.start(live=live)
        if live:
            self._spawn(self._every(KEY_PACKAGE_UPKEEP, self.key_packages.upkeep), "key packages")
            self._spawn(self._every(RELAY_LIST_REPAIR, self.relays.repair), "relay lists")

    async def setup(self) -> None:
        """First-run and repair work: relay lists, profile, a live key package."""
        await self._guarded(self.relays.repair(), "relay lists")
        await self._guarded(self.contacts.publish_profile_if_new(), "profile")
        await self._guarded(self.key_packages.upkeep(), "key packages")

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
                return await self.outbox.flush(force=True)
        except TimeoutError:
            return 0

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.sync_engine.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pool.close()
        await self.account.db.close()
        self.ctx.emit(AccountLocked(self.pubkey))

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
        if event.kind in _DISCOVERY_KINDS:
            await self.relays.remember(event)
        elif event.kind in (Kind.METADATA, Kind.FOLLOW_LIST):
            await self.contacts.remember(event)


async def _no_groups() -> list[GroupTarget]:
    return []
