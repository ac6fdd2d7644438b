"""The durable outbox: every event we publish is stored first, then sent until accepted.

Services never call ``pool.publish`` for something that matters; they store the event (in
the same transaction as the state that produced it, via ``storage.record_outgoing``) and
`kick` the outbox. An entry is retried with capped exponential backoff until a relay
accepts it, survives restarts, and an entry chained ``after`` another (a Welcome after its
Commit) waits until its predecessor was accepted.

What happens on acceptance or failure depends on the entry's purpose: a `PurposeHook`
runs inside the same transaction that marks the entry sent (merging our commit, marking a
message sent) and then publishes bus events on the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app import deferred_welcome
from app.clock import Clock
from nostr.backoff import Backoff
from nostr.errors import RemoteSignerError, SignerUnavailable, UsageError
from nostr.event import Event, UnsignedEvent
from nostr.messages import MachineReadablePrefix
from nostr.relay import PublishOutcome, PublishResult, RelayPool
from nostr.signer import Signer
from storage import Connection, Database
from storage.repos import outbox as outbox_repo
from storage.rows import OutboxEntry, OutboxState

log = logging.getLogger(__name__)

RETRY = Backoff(base=2.0, factor=2.0, cap=300.0, jitter=0.25)
MAX_AGE = 7 * 24 * 3600
"""An entry not accepted within a week is given up (a stale commit or key package)."""
STALE_AFTER = 60
"""An event older than this when it is tried again is offered to `Outbox.renew`: receivers
fetch from their cursors minus a two-minute margin, so an event published long after its
``created_at`` could fall behind the cursor of someone who synced meanwhile."""
PARALLEL = 8
_PERMANENT = frozenset(
    {
        MachineReadablePrefix.INVALID,
        MachineReadablePrefix.BLOCKED,
        MachineReadablePrefix.POW,
        MachineReadablePrefix.RESTRICTED,
        MachineReadablePrefix.MUTE,
    }
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one publish attempt as the hooks see it."""

    accepted_by: tuple[str, ...]
    error: str = ""
    final: bool = False
    """No further attempt will be made (refused as invalid, too old, or cancelled)."""


class PurposeHook(Protocol):
    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        """Inside the transaction that marks ``entry`` sent (DB thread)."""
        ...

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        """Inside the transaction that records a failed attempt (DB thread)."""
        ...

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        """On the loop, once the transaction committed (publish bus events here)."""
        ...

    # Optional: ``should_send(conn, entry) -> bool``, checked before each attempt (DB
    # thread); False cancels the entry (and its followers) instead of publishing it.


Renew = Callable[[OutboxEntry, Event, tuple[str, ...]], Awaitable[tuple[OutboxEntry, Event] | None]]


class Outbox:
    def __init__(
        self,
        db: Database,
        pool: RelayPool,
        clock: Clock,
        *,
        publish_timeout: float,
        hold: Callable[[Iterable[str]], Awaitable[tuple[str, ...]]],
        release: Callable[[Iterable[str]], Awaitable[None]],
        reachable: Callable[[Iterable[str]], Awaitable[tuple[str, ...]]] | None = None,
        signer: Signer | None = None,
    ) -> None:
        self._db = db
        self._signer = signer
        """Signs entries stored unsigned (a remote signer's account queues its events
        before the signer has answered: they wait here, durably, until it does)."""
        self._pool = pool
        self._clock = clock
        self._timeout = publish_timeout
        self._hold = hold
        self._release = release
        self._reachable = reachable
        self._hooks: dict[str, PurposeHook] = {}
        self._wake = asyncio.Event()
        self._waiters: dict[int, list[asyncio.Future[OutboxEntry]]] = {}
        self._attempt_waiters: dict[int, list[asyncio.Future[OutboxEntry]]] = {}
        self._inflight: dict[int, asyncio.Future[bool]] = {}
        self._sem = asyncio.Semaphore(PARALLEL)
        self.attempts = 0
        self.renew: Renew | None = None
        """Gives a stale event a fresh envelope (stored in place of the entry's event), given
        the reachable relays it is about to go to."""

    def register(self, purpose: str, hook: PurposeHook) -> None:
        self._hooks[purpose] = hook

    def kick(self) -> None:
        """Something was enqueued (or a retry was asked for): look at the queue now."""
        self._wake.set()

    async def run(self) -> None:
        """Publish due entries forever, sleeping until the next one is due or a `kick`."""
        while True:
            self._wake.clear()
            await self.flush()
            wake_at = await self._db.run(outbox_repo.next_wakeup)
            delay = 60.0 if wake_at is None else max(0.05, wake_at - self._clock.now())
            try:
                async with asyncio.timeout(min(delay, 60.0)):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def flush(self, *, force: bool = False) -> int:
        """Attempt every due entry (``force``: every pending one); returns how many were sent.

        Repeats while entries become due because their predecessor was just accepted.
        """
        sent = 0
        while True:
            horizon = 2**62 if force else self._clock.now()
            due = await self._db.run(outbox_repo.due, now=horizon, limit=200)
            fresh = [e for e in due if e.id not in self._inflight]
            # Entries another flush is publishing right now count too: wait for them.
            busy = [self._inflight[e.id] for e in due if e.id in self._inflight]
            if not fresh and not busy:
                return sent
            results = await asyncio.gather(*(self._attempt(e) for e in fresh), *busy)
            accepted = sum(results)
            sent += accepted
            if not accepted:
                return sent

    async def wait(
        self, entry_id: int, timeout: float, *, first_attempt: bool = False
    ) -> OutboxEntry | None:
        """Wait until the entry is sent or failed for good (``first_attempt``: or until an
        attempt failed, which says "not yet" without waiting out the timeout); None on
        timeout."""
        entry = await self._db.run(outbox_repo.get, entry_id)
        if entry is None or entry.state is not OutboxState.PENDING:
            return entry
        future: asyncio.Future[OutboxEntry] = asyncio.get_running_loop().create_future()
        waiters = self._attempt_waiters if first_attempt else self._waiters
        waiters.setdefault(entry_id, []).append(future)
        self.kick()
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return None
        finally:
            left = waiters.get(entry_id, [])
            if future in left:
                left.remove(future)

    async def pending(self) -> list[OutboxEntry]:
        return await self._db.run(outbox_repo.pending)

    async def retry_now(self, entry_id: int) -> None:
        """Make a pending entry due immediately (the user pressed retry)."""
        now = self._clock.now()
        await self._db.run(
            outbox_repo.mark_attempt_failed, entry_id, "retry requested", retry_at=now, now=now
        )
        self.kick()

    def _attempt(self, entry: OutboxEntry) -> asyncio.Future[bool]:
        task = asyncio.ensure_future(self._guarded(entry))
        self._inflight[entry.id] = task
        task.add_done_callback(lambda _: self._inflight.pop(entry.id, None))
        return task

    async def _guarded(self, entry: OutboxEntry) -> bool:
        try:
            async with self._sem:
                return await self._publish(entry)
        except Exception:  # a broken entry must not stop the queue
            log.exception("outbox entry %s (%s) failed", entry.id, entry.purpose)
            return False

    async def _publish(self, entry: OutboxEntry) -> bool:
        self.attempts += 1
        now = self._clock.now()
        if now - entry.created_at > MAX_AGE:
            await self._record(entry, Attempt((), "not accepted within a week", final=True))
            return False
        check: Callable[[Connection, OutboxEntry], bool] | None = getattr(
            self._hooks.get(entry.purpose), "should_send", None
        )
        if check is not None and not await self._db.run(check, entry):
            await self._db.run(outbox_repo.cancel, entry.id, now=now, reason="no longer wanted")
            return False
        signed = await self._signed(entry)
        if signed is None:
            return False
        entry, event = signed
        urls = await self._hold(entry.relays)
        try:
            # Relays that just refused a connection are not waited for (a later attempt is).
            live = urls if self._reachable is None else await self._reachable(urls)
            if live:
                if self.renew is not None and now - event.created_at > STALE_AFTER:
                    entry, event = await self.renew(entry, event, live) or (entry, event)
                result = await self._pool.publish(event, relays=live, timeout=self._timeout)
                attempt = _attempt_of(result)
            else:
                attempt = Attempt((), "no relay reachable")
        finally:
            await self._release(urls)
        await self._record(entry, attempt)
        return bool(attempt.accepted_by)

    async def _signed(self, entry: OutboxEntry) -> tuple[OutboxEntry, Event] | None:
        """The entry (as stored after this) and its event, signed now if it was stored
        unsigned; None when the signer did not answer (the entry waits, retried later)."""
        data = json.loads(entry.event_json)
        if "sig" in data:
            return entry, Event.from_dict(data)
        if self._signer is None:
            raise UsageError("an unsigned outbox entry and no signer to sign it")
        try:
            if deferred_welcome.is_deferred(data):
                event = await deferred_welcome.wrap(data, self._signer, now=self._clock.now())
            else:
                event = await self._signer.sign_event(UnsignedEvent.from_dict(data))
        except (SignerUnavailable, RemoteSignerError) as exc:
            await self._record(entry, Attempt((), f"waiting for the remote signer: {exc}"))
            return None
        now = self._clock.now()
        signed = event.to_json()
        await self._db.run(outbox_repo.replace_event, entry.id, event.id, signed, now=now)
        return replace(entry, event_id=event.id, event_json=signed), event

    async def _record(self, entry: OutboxEntry, attempt: Attempt) -> None:
        hook = self._hooks.get(entry.purpose)
        now = self._clock.now()
        draw = random.random()  # noqa: S311 (jitter, not a secret)
        retry_at = None if attempt.final else now + int(RETRY.delay(entry.attempts, draw))

        def write(conn: Connection) -> Any:
            if attempt.accepted_by:
                outbox_repo.mark_sent(conn, entry.id, attempt.accepted_by, now=now)
                return None if hook is None else hook.on_sent(conn, entry, attempt, now)
            outbox_repo.mark_attempt_failed(
                conn, entry.id, attempt.error, retry_at=retry_at, now=now
            )
            return None if hook is None else hook.on_failed(conn, entry, attempt, now)

        result = await self._db.transact(write)
        if hook is not None:
            hook.after(entry, attempt, result)
        done = bool(attempt.accepted_by or attempt.final)
        waiting = self._attempt_waiters.pop(entry.id, [])
        if done:
            waiting += self._waiters.pop(entry.id, [])
        if waiting:
            current = await self._db.run(outbox_repo.get, entry.id)
            for future in waiting:
                if current is not None and not future.done():
                    future.set_result(current)


def _attempt_of(result: PublishResult) -> Attempt:
    if result.success:
        return Attempt(result.accepted)
    errors = []
    permanent = bool(result.responses)
    for url, response in result.responses.items():
        errors.append(f"{url}: {response.outcome.value} {response.message}".strip())
        if response.outcome is not PublishOutcome.REJECTED or response.prefix not in _PERMANENT:
            permanent = False
    return Attempt((), "; ".join(errors) or "no relay to publish to", final=permanent)
