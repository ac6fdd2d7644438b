"""Relays: our lists (NIP-65 10002, inbox 10050, key packages 10051), the pool's members,
per-relay status, and other people's lists (cached, fetched when missing).

A new account starts with the relays chosen at onboarding (`start_with`: the public
defaults or this computer's local relay) in all three lists; each list can then be edited
on its own. Lists are published to our relays and the discovery relays on setup and
whenever they change, and `repair` re-publishes any list our relays do not have. The
pool holds our relays, the discovery relays and every group's relays; relays needed only
for a moment (an invitee's inbox) are connected for the publish and released after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

from app.context import Context
from app.errors import InvalidInput, NotFound
from app.events import RelayStatusChanged as RelayStatusEvent
from app.models import RelayInfo
from nostr.errors import DecodeError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.relay import RelayStatus, RelayStatusChanged
from nostr.relay_lists import (
    RelayListEntry,
    inbox_relays_event,
    key_package_relays_event,
    parse_relay_list,
    parse_relay_tags,
    relay_list_event,
)
from nostr.relay_url import normalize_relay_url
from storage.repos import relays as relays_repo
from storage.rows import RelayEntry, RelayList, RelayListKind

log = logging.getLogger(__name__)

LIST_KINDS = (RelayListKind.NIP65, RelayListKind.INBOX, RelayListKind.KEY_PACKAGES)
_LIST_NAMES = {
    RelayListKind.NIP65: "nip65",
    RelayListKind.INBOX: "inbox",
    RelayListKind.KEY_PACKAGES: "key_packages",
}
STALE_AFTER = 3600
"""Someone's cached relay list older than this is fetched again before use."""


def _by_role(entries: Sequence[RelayEntry]) -> tuple[str, ...]:
    """Write (and both) relays first: where someone's own events are."""
    ordered = sorted(entries, key=lambda e: e.marker == "read")
    return tuple(e.url for e in ordered)


def list_kind(name: str | None) -> RelayListKind | None:
    """``nip65`` / ``inbox`` / ``key_packages`` (or None: all three)."""
    if name is None:
        return None
    for kind, known in _LIST_NAMES.items():
        if name.replace("-", "_") == known:
            return kind
    raise InvalidInput(f"no relay list {name!r}: nip65, inbox or key_packages")


def normalize(url: str) -> str:
    try:
        return normalize_relay_url(url.strip())
    except DecodeError as exc:
        raise InvalidInput(str(exc)) from None


class Relays:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._lists: dict[RelayListKind, tuple[str, ...]] = {}
        self._group_relays: set[str] = set()
        self._held: dict[str, int] = {}
        self._status: dict[str, RelayStatusChanged] = {}

    # --- our lists ---------------------------------------------------------------------

    async def load(self) -> None:
        """Read our lists; an account without any gets the local relay in all three."""
        ctx = self._ctx
        for kind in LIST_KINDS:
            urls = await ctx.db.run(relays_repo.urls, ctx.pubkey, kind)
            self._lists[kind] = tuple(urls)
        if not any(self._lists.values()):
            await self._store_lists((ctx.config.local_relay,))

    @property
    def mine(self) -> tuple[str, ...]:
        """Every relay of our three lists, NIP-65 order first."""
        return tuple(dict.fromkeys(u for kind in LIST_KINDS for u in self._lists.get(kind, ())))

    def of_kind(self, kind: RelayListKind) -> tuple[str, ...]:
        return self._lists.get(kind, ()) or self.mine

    @property
    def inbox(self) -> tuple[str, ...]:
        return self.of_kind(RelayListKind.INBOX)

    @property
    def key_package_relays(self) -> tuple[str, ...]:
        return self.of_kind(RelayListKind.KEY_PACKAGES)

    @property
    def lookup(self) -> tuple[str, ...]:
        """Where to look other people up: ours, then the discovery relays."""
        return tuple(dict.fromkeys((*self.mine, *self._ctx.config.discovery_relays)))

    async def _store_lists(
        self,
        urls: Sequence[str],
        *,
        created_at: int | None = None,
        kinds: Sequence[RelayListKind] = LIST_KINDS,
    ) -> None:
        ctx = self._ctx
        entries = tuple(RelayEntry(u) for u in urls)
        for kind in kinds:
            stored = await ctx.db.run(relays_repo.get_list, ctx.pubkey, kind)
            stamp = created_at if created_at is not None else 0
            if stored is not None and created_at is not None:
                stamp = max(created_at, stored.created_at + 1)  # replaceable: newer must win
            record = RelayList(ctx.pubkey, kind, entries, stamp, None, ctx.now())
            await ctx.db.run(relays_repo.save_list, record)
            self._lists[kind] = tuple(urls)

    async def start_with(self, urls: Iterable[str]) -> None:
        """A new account's relays, all three lists (published on `AccountSession.start`)."""
        wanted = tuple(dict.fromkeys(normalize(u) for u in urls))
        if not wanted:
            raise InvalidInput("name at least one relay")
        await self._store_lists(wanted)

    def lists(self) -> dict[str, tuple[str, ...]]:
        """Our three lists by name (``nip65``, ``inbox``, ``key_packages``), as stored."""
        return {_LIST_NAMES[k]: self._lists.get(k, ()) for k in LIST_KINDS}

    async def set_relays(
        self, urls: Iterable[str], kind: RelayListKind | None = None
    ) -> tuple[str, ...]:
        """Use exactly ``urls`` for one list (all three when ``kind`` is None)."""
        wanted = tuple(dict.fromkeys(normalize(u) for u in urls))
        return await self._edit(lambda _: wanted, kind)

    async def add(self, url: str, kind: RelayListKind | None = None) -> tuple[str, ...]:
        """Add ``url`` to one list (to each when ``kind`` is None)."""
        url = normalize(url)
        return await self._edit(lambda urls: tuple(dict.fromkeys((*urls, url))), kind)

    async def remove(self, url: str, kind: RelayListKind | None = None) -> tuple[str, ...]:
        """Take ``url`` out of one list (out of each when ``kind`` is None)."""
        url = normalize(url)
        if url not in (self.mine if kind is None else self._lists.get(kind, ())):
            where = "one of your relays" if kind is None else f"in your {_LIST_NAMES[kind]} list"
            raise NotFound(f"{url} is not {where}")
        return await self._edit(lambda urls: tuple(u for u in urls if u != url), kind)

    async def _edit(
        self, change: Callable[[tuple[str, ...]], tuple[str, ...]], kind: RelayListKind | None
    ) -> tuple[str, ...]:
        """Apply ``change`` to the lists, then publish all three and reconnect; returns the
        changed list (every relay of ours when ``kind`` is None)."""
        kinds = LIST_KINDS if kind is None else (kind,)
        changed = {k: change(self._lists.get(k, ())) for k in kinds}
        if not all(changed.values()):
            raise InvalidInput("a relay list needs at least one relay")
        previous = self.mine
        for k, urls in changed.items():
            await self._store_lists(urls, created_at=self._ctx.now(), kinds=(k,))
        await self.sync_pool()
        await self.publish_lists(also=previous)  # the old relays learn where we went
        return self.mine if kind is None else changed[kind]

    async def publish_lists(self, *, also: Iterable[str] = ()) -> None:
        """Sign and queue our three lists (to our relays, the discovery relays and
        ``also``)."""
        ctx = self._ctx
        targets = tuple(dict.fromkeys((*self.lookup, *also)))
        for kind in LIST_KINDS:
            stored = await ctx.db.run(relays_repo.get_list, ctx.pubkey, kind)
            urls = [e.url for e in stored.entries] if stored is not None else list(self.mine)
            created_at = max(ctx.now(), (stored.created_at if stored else 0))
            if kind is RelayListKind.NIP65:
                unsigned = relay_list_event(
                    ctx.pubkey, [RelayListEntry(u) for u in urls], created_at=created_at
                )
            elif kind is RelayListKind.INBOX:
                unsigned = inbox_relays_event(ctx.pubkey, urls, created_at=created_at)
            else:
                unsigned = key_package_relays_event(ctx.pubkey, urls, created_at=created_at)
            event = await ctx.prepare(unsigned)
            entries = tuple(RelayEntry(u) for u in urls)
            record = RelayList(ctx.pubkey, kind, entries, created_at, event.id, ctx.now())
            await ctx.db.run(relays_repo.save_list, record)
            await ctx.enqueue(event, targets, "relay_list")

    async def repair(self) -> int:
        """Re-publish our lists when our relays miss any (or hold an older one)."""
        ctx = self._ctx
        kinds = [int(k) for k in LIST_KINDS]
        # The discovery relays too: an imported account's lists may be known only there.
        found = await self.fetch([Filter(authors=[ctx.pubkey], kinds=kinds)], self.lookup)
        newest: dict[int, Event] = {}
        for event in found:
            if event.kind not in newest or event.created_at > newest[event.kind].created_at:
                newest[event.kind] = event
        for event in newest.values():
            await self.remember(event)
        missing = 0
        for kind in LIST_KINDS:
            stored = await ctx.db.run(relays_repo.get_list, ctx.pubkey, kind)
            seen = newest.get(int(kind))
            if (
                seen is None
                or stored is None
                or stored.event_id is None
                or (seen.created_at < stored.created_at)
            ):
                missing += 1
        if missing:
            await self.publish_lists()
        for kind in LIST_KINDS:
            self._lists[kind] = tuple(await ctx.db.run(relays_repo.urls, ctx.pubkey, kind))
        return missing

    # --- anyone's lists ------------------------------------------------------------------

    async def remember(self, event: Event) -> bool:
        """Cache a 10002/10050/10051 event (ours or anyone's); True when it was newer."""
        ctx = self._ctx
        try:
            if event.kind == Kind.RELAY_LIST:
                entries = tuple(
                    RelayEntry(e.url, "" if e.read and e.write else ("read" if e.read else "write"))
                    for e in parse_relay_list(event)
                )
            else:
                entries = tuple(RelayEntry(u) for u in parse_relay_tags(event))
        except DecodeError:
            return False
        record = RelayList(
            event.pubkey, RelayListKind(event.kind), entries, event.created_at, event.id, ctx.now()
        )
        stored = await ctx.db.run(relays_repo.get_list, event.pubkey, RelayListKind(event.kind))
        if stored is not None and stored.created_at >= event.created_at:
            return False
        changed = await ctx.db.run(relays_repo.save_list, record)
        if changed and event.pubkey == ctx.pubkey:
            self._lists[RelayListKind(event.kind)] = tuple(e.url for e in entries)
        return bool(changed)

    async def lists_of(
        self, pubkey: str, *, hints: Sequence[str] = (), refresh: bool = False
    ) -> dict[RelayListKind, tuple[str, ...]]:
        """Someone's three lists from the cache, fetched first (from the hints, our relays
        and the discovery relays) when missing or older than `STALE_AFTER`. The NIP-65
        list is given as its write relays (where they publish) then its read relays."""
        ctx = self._ctx
        cached = {k: await ctx.db.run(relays_repo.get_list, pubkey, k) for k in LIST_KINDS}
        stale = any(c is None or ctx.now() - c.fetched_at > STALE_AFTER for c in cached.values())
        if refresh or stale:
            kinds = [int(k) for k in LIST_KINDS]
            for event in await self.fetch(
                [Filter(authors=[pubkey], kinds=kinds)], (*hints, *self.lookup)
            ):
                await self.remember(event)
            cached = {k: await ctx.db.run(relays_repo.get_list, pubkey, k) for k in LIST_KINDS}
        return {k: _by_role(c.entries) if c else () for k, c in cached.items()}

    async def inbox_of(self, pubkey: str, *, hints: Sequence[str] = ()) -> tuple[str, ...]:
        """Where to deliver gift wraps to ``pubkey``: 10050, else their 10002, else ours."""
        lists = await self.lists_of(pubkey, hints=hints)
        return lists[RelayListKind.INBOX] or lists[RelayListKind.NIP65] or self.mine

    async def key_package_relays_of(
        self, pubkey: str, *, hints: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Where ``pubkey``'s key packages are: 10051, then 10002, then ours (deduplicated)."""
        lists = await self.lists_of(pubkey, hints=hints)
        ordered = (*lists[RelayListKind.KEY_PACKAGES], *lists[RelayListKind.NIP65], *hints)
        return tuple(dict.fromkeys((*ordered, *self.lookup)))

    # --- the pool ------------------------------------------------------------------------

    def set_group_relays(self, urls: Iterable[str]) -> None:
        self._group_relays = set(urls)

    @property
    def wanted(self) -> tuple[str, ...]:
        """The relays kept connected: ours, discovery and the groups'."""
        return tuple(dict.fromkeys((*self.lookup, *sorted(self._group_relays))))

    async def sync_pool(self) -> None:
        """Connect the wanted relays; drop the ones no longer wanted (unless held)."""
        pool = self._ctx.pool
        wanted = set(self.wanted)
        for url in self.wanted:
            await pool.add_relay(url)
        for url in pool.relays:
            if url not in wanted and not self._held.get(url):
                await pool.remove_relay(url)

    async def hold(self, urls: Iterable[str]) -> tuple[str, ...]:
        """Connect ``urls`` for a moment; pair with `release`."""
        normal = []
        for raw in urls:
            try:
                url = normalize_relay_url(raw)
            except DecodeError:
                continue
            self._held[url] = self._held.get(url, 0) + 1
            await self._ctx.pool.add_relay(url)
            normal.append(url)
        return tuple(normal)

    async def release(self, urls: Iterable[str]) -> None:
        wanted = set(self.wanted)
        for url in urls:
            count = self._held.get(url, 0) - 1
            if count > 0:
                self._held[url] = count
                continue
            self._held.pop(url, None)
            if url not in wanted and url in self._ctx.pool.relays:
                await self._ctx.pool.remove_relay(url)

    async def connected(self, urls: Iterable[str], timeout: float | None = None) -> tuple[str, ...]:
        """Those of ``urls`` that are (or within ``timeout`` get) connected. A relay whose
        last attempt failed is not waited for: its retries run in the background."""
        pool = self._ctx.pool
        wait = self._ctx.config.timeouts.connect if timeout is None else timeout
        candidates = [u for u in urls if u in pool.relays]
        results = await asyncio.gather(*(self._up(u, wait) for u in candidates))
        return tuple(u for u, ok in zip(candidates, results, strict=True) if ok)

    async def _up(self, url: str, timeout: float) -> bool:
        """Connected within ``timeout``; False as soon as an attempt fails."""
        pool = self._ctx.pool
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status = pool.status(url)
            if status.is_connected:
                return True
            left = deadline - loop.time()
            if status is RelayStatus.DISCONNECTED or not status.can_connect or left <= 0:
                return False
            if await pool.wait_connected([url], timeout=min(0.05, left)):
                return True

    async def fetch(
        self, filters: Sequence[Filter], relays: Iterable[str], *, timeout: float | None = None
    ) -> list[Event]:
        """Stored events from ``relays`` (connected for the call), deduplicated."""
        urls = await self.hold(relays)
        if not urls:
            return []
        wait = self._ctx.config.timeouts
        try:
            await self._ctx.pool.wait_connected(urls, timeout=wait.connect)
            events = await self._ctx.pool.fetch(filters, relays=urls, timeout=timeout or wait.fetch)
        finally:
            await self.release(urls)
        return list({e.id: e for e in events}.values())

    # --- status --------------------------------------------------------------------------

    def on_status(self, change: RelayStatusChanged) -> None:
        self._status[change.relay_url] = change
        self._ctx.emit(
            RelayStatusEvent(self._ctx.pubkey, change.relay_url, change.status.value, change.error)
        )
        self._ctx.spawn(self._save_status(change), "saving relay status")

    async def _save_status(self, change: RelayStatusChanged) -> None:
        ctx = self._ctx
        if ctx.db.closed:
            return
        await ctx.db.run(
            relays_repo.set_status,
            change.relay_url,
            change.status.value,
            now=ctx.now(),
            error=change.error,
            connected=change.status.is_connected,
        )

    def info(self) -> list[RelayInfo]:
        """Our relays and the groups' relays, with their live status."""
        out = []
        pool = self._ctx.pool
        for url in dict.fromkeys((*self.mine, *sorted(self._group_relays))):
            lists = tuple(_LIST_NAMES[k] for k in LIST_KINDS if url in self._lists.get(k, ()))
            if url in self._group_relays:
                lists += ("group",)
            status = pool.status(url).value if url in pool.relays else "disconnected"
            change = self._status.get(url)
            out.append(RelayInfo(url, status, lists, change.error if change else None))
        return out
