"""What every service of one unlocked account shares: identity, database, pool, outbox, bus.

Built once per account session by `app.session.AccountSession`; services receive it
instead of a long list of constructor arguments.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.bus import EventBus
from app.clock import Clock
from app.config import AppConfig
from app.events import AppEvent, ErrorRaised
from app.outbox import Outbox
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng
from nostr.relay import RelayPool
from nostr.signer import Signer
from storage import Database, OutgoingEvent, Recorded, record_outgoing
from storage.repos import processed as processed_repo
from storage.rows import Outcome

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Context:
    config: AppConfig
    clock: Clock
    rng: Rng
    bus: EventBus
    db: Database
    pubkey: str
    signer: Signer = field(repr=False)
    """The identity key's signer: local, or a NIP-46 remote signer (then every call may
    wait, and fail with ``SignerUnavailable`` or ``RemoteSignerError``)."""
    pool: RelayPool
    outbox: Outbox
    tasks: set[asyncio.Task[None]] = field(default_factory=set, repr=False)
    deferred_signing: bool = False
    """True for a remote signer's account: see `prepare`."""

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """Run follow-up work in the background, owned by the session (cancelled on close);
        a failure is logged and reported as an ``ErrorRaised`` event."""
        task = asyncio.ensure_future(self._report(coro, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        # Cancelled before it ever ran (the session closed at once), ``coro`` was never
        # awaited: close it, or Python warns. A no-op for one that ran.
        task.add_done_callback(lambda _: coro.close())

    async def _report(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # background work must not die silently
            log.exception("%s failed", what)
            self.emit(ErrorRaised(self.pubkey, f"{what}: {exc}", what))

    async def cancel_tasks(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def public_key(self) -> PublicKey:
        return self.signer.public_key

    def now(self) -> int:
        return self.clock.now()

    async def sign(self, unsigned: UnsignedEvent) -> Event:
        return await self.signer.sign_event(unsigned)

    async def prepare(self, unsigned: UnsignedEvent) -> Event | UnsignedEvent:
        """An event to `enqueue`: signed now by a local key; left unsigned for a remote
        signer, so it waits in the durable outbox (which signs it before the first
        attempt) instead of failing while the signer is slow or away. Its id is the same
        either way."""
        if self.deferred_signing:
            return unsigned
        return await self.sign(unsigned)

    def emit(self, event: AppEvent) -> None:
        self.bus.publish(event)

    async def mark(
        self,
        event: Event,
        outcome: Outcome,
        reason: str = "",
        *,
        gid: bytes | None = None,
        epoch: int | None = None,
        keep: bool = False,
    ) -> None:
        """Record what became of an incoming event (its dedupe mark); ``keep`` (implied by
        a retryable outcome) stores the event itself for a retry."""
        await self.db.run(
            processed_repo.mark,
            event.id,
            kind=event.kind,
            created_at=event.created_at,
            outcome=outcome,
            now=self.now(),
            reason=reason,
            mls_group_id=gid,
            epoch=epoch,
            event_json=event.to_json() if keep or outcome is Outcome.RETRYABLE else None,
        )

    async def enqueue(
        self,
        event: Event | UnsignedEvent,
        relays: Iterable[str],
        purpose: str,
        *,
        after_id: int | None = None,
    ) -> int:
        """Store ``event`` in the outbox (durably) and wake the sender; returns the entry id."""
        outgoing = OutgoingEvent(event.id, event.to_json(), tuple(relays), purpose, after_id)
        recorded: Recorded = await self.db.transact(record_outgoing, (outgoing,), now=self.now())
        self.outbox.kick()
        return recorded.outbox_ids[0]
