"""Fixtures for `app` unit tests: a real encrypted database (cheap key derivation), a fake
relay pool, a fixed clock, a seeded rng and a bus that records what was published."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest_asyncio

from app.bus import EventBus
from app.clock import FixedClock
from app.config import AppConfig
from app.context import Context
from app.events import AppEvent
from app.outbox import Outbox
from app.relays import Relays
from nostr.keys import SecretKey
from nostr.relay import RelayPool
from nostr.signer import KeySigner
from storage import Database
from storage.repos import accounts as accounts_repo
from tests.helpers.storage_factories import FAST
from tests.unit.app.fakes import FakePool

RELAY = "ws://127.0.0.1:7001"
START = 1_800_000_000


def seeded_rng(seed: str = "rng") -> Callable[[int], bytes]:
    counter = [0]

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            counter[0] += 1
            out += hashlib.sha256(f"{seed}:{counter[0]}".encode()).digest()
        return out[:n]

    return rng


@dataclass
class Harness:
    ctx: Context
    pool: FakePool
    clock: FixedClock
    events: list[AppEvent]
    relays: Relays

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = FixedClock(START)
    secret = SecretKey.generate(seeded_rng("alice"))
    db = await Database.open(tmp_path / "a.db", "pw", create=True, profile=FAST)
    await db.run(accounts_repo.create, secret.public_key().hex, secret.data, now=START)
    pool = FakePool()
    bus = EventBus()
    events: list[AppEvent] = []
    bus.subscribe(events.append)
    config = AppConfig(tmp_path, local_relay=RELAY, embedded_relay=False, cipher=FAST)
    holder: dict[str, Relays] = {}
    real_pool = cast(RelayPool, pool)
    outbox = Outbox(
        db,
        real_pool,
        clock,
        publish_timeout=1.0,
        hold=lambda urls: holder["relays"].hold(urls),  # noqa: PLW0108
        release=lambda urls: holder["relays"].release(urls),  # noqa: PLW0108
    )
    ctx = Context(
        config,
        clock,
        seeded_rng(),
        bus,
        db,
        secret.public_key().hex,
        KeySigner(secret),
        real_pool,
        outbox,
    )
    relays = Relays(ctx)
    holder["relays"] = relays
    await relays.load()
    await relays.sync_pool()
    yield Harness(ctx, pool, clock, events, relays)
    await db.close()
