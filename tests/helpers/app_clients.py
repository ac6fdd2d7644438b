"""In-process clients for the service-layer integration tests: one `Services` each, with its
own data folder, talking to the real relay fixture (the embedded relay stays off)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app import AccountSession, AppConfig, Services, Timeouts
from app.events import AppEvent
from app.http import HttpSettings
from app.models import GroupInfo
from tests.helpers.storage_factories import FAST

PASSPHRASE = "correct horse battery staple"
TIMEOUTS = Timeouts(publish=5.0, fetch=5.0, connect=3.0, reconnect_max=0.5, signer=1.5)
T = TypeVar("T")


def config_for(
    data_dir: Path,
    relay_url: str,
    discovery: tuple[str, ...] = (),
    http: HttpSettings | None = None,
    blossom: tuple[str, ...] = (),
) -> AppConfig:
    return AppConfig(
        data_dir,
        local_relay=relay_url,
        embedded_relay=False,
        embedded_blossom=False,
        blossom_servers=blossom,
        discovery_relays=discovery,
        http=http or HttpSettings(timeout=5.0),
        timeouts=TIMEOUTS,
        cipher=FAST,
    )


@dataclass
class Client:
    name: str
    services: Services
    session: AccountSession
    events: list[AppEvent] = field(default_factory=list)

    @property
    def pubkey(self) -> str:
        return self.session.pubkey

    @property
    def npub(self) -> str:
        return self.session.ctx.public_key.to_bech32()

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, kind: type[T], timeout: float = 15.0) -> list[T]:
        """Every event of ``kind`` so far, once there is at least one."""

        async def probe() -> list[T]:
            return self.of(kind)

        return await eventually(probe, bool, timeout)

    async def sync(self, timeout: float = 15.0) -> None:
        await self.session.sync(timeout)

    async def close(self) -> None:
        await self.services.close()


async def make_client(
    tmp: Path,
    relay_url: str,
    name: str,
    *,
    start: bool = True,
    live: bool = True,
    discovery: tuple[str, ...] = (),
    http: HttpSettings | None = None,
    blossom: tuple[str, ...] = (),
) -> Client:
    """``relay_url`` is the client's home relay (its local relay, in all three lists);
    ``discovery`` its discovery relays; ``http`` how NIP-05 and pictures are fetched."""
    services = Services(config_for(tmp / name, relay_url, discovery, http, blossom))
    events: list[AppEvent] = []
    services.bus.subscribe(events.append)
    session = await services.create_account(name, PASSPHRASE)
    client = Client(name, services, session, events)
    if start:
        await session.start(live=live)
        await session.flush(10)
    return client


async def reopen(
    client: Client,
    relay_url: str,
    tmp: Path,
    *,
    live: bool = True,
    blossom: tuple[str, ...] = (),
) -> Client:
    """Close ``client`` and unlock the same account again from its data folder."""
    pubkey = client.pubkey
    await client.close()
    services = Services(config_for(tmp / client.name, relay_url, blossom=blossom))
    events: list[AppEvent] = []
    services.bus.subscribe(events.append)
    session = await services.unlock(pubkey, PASSPHRASE)
    await session.start(live=live)
    return Client(client.name, services, session, events)


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    timeout: float = 15.0,
    interval: float = 0.05,
) -> T:
    """Poll ``probe`` until ``ok(result)``; fail with the last result after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if ok(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {result!r}")
        await asyncio.sleep(interval)


def anything(value: Any) -> bool:
    return bool(value)


async def catch_up(*clients: Client) -> None:
    """Each client asks the relays for what it missed and processes it (no live stream)."""
    for client in clients:
        await client.session.sync_engine.catch_up_all()


async def group_with(owner: Client, name: str, *guests: Client) -> GroupInfo:
    """``owner`` creates the group ``name``; the ``guests`` accept their invites one after
    another, everyone catching up after each join (for clients without live streams)."""
    group = await owner.session.groups.create(name, [g.npub for g in guests], profile="mip")
    await owner.session.flush(10)  # the Welcomes are on the relay before anyone asks
    for guest in guests:
        await catch_up(guest)
        invites = await eventually(guest.session.invites.list_invites, bool)
        assert invites[0].inviter == owner.pubkey
        await join(guest, group)
        await catch_up(owner, *guests)
    return group


async def join(guest: Client, group: GroupInfo) -> GroupInfo:
    """``guest`` waits for its invite to ``group`` and accepts it."""
    invites = await eventually(guest.session.invites.list_invites, bool)
    assert invites[0].group_id == group.id
    return await guest.session.invites.accept(invites[0].id)
