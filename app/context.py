"""What every service of one unlocked account shares: identity, database, pool, outbox, bus.

Built once per account session by `app.session.AccountSession`; services receive it
instead of a long list of constructor arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.bus import EventBus
from app.clock import Clock
from app.config import AppConfig
from app.events import AppEvent
from app.outbox import Outbox
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey
from nostr.relay import RelayPool
from storage import Database, OutgoingEvent, Recorded, record_outgoing


@dataclass(slots=True)
class Context:
    config: AppConfig
    clock: Clock
    rng: Rng
    bus: EventBus
    db: Database
    pubkey: str
    secret: SecretKey = field(repr=False)
    pool: RelayPool
    outbox: Outbox

    @property
    def public_key(self) -> PublicKey:
        return self.secret.public_key()

    def now(self) -> int:
        return self.clock.now()

    def sign(self, unsigned: UnsignedEvent) -> Event:
        return unsigned.sign(self.secret, rng=self.rng)

    def emit(self, event: AppEvent) -> None:
        self.bus.publish(event)

    async def enqueue(
        self, event: Event, relays: Iterable[str], purpose: str, *, after_id: int | None = None
    ) -> int:
        """Store ``event`` in the outbox (durably) and wake the sender; returns the entry id."""
        outgoing = OutgoingEvent(event.id, event.to_json(), tuple(relays), purpose, after_id)
        recorded: Recorded = await self.db.transact(record_outgoing, (outgoing,), now=self.now())
        self.outbox.kick()
        return recorded.outbox_ids[0]
