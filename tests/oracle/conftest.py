"""Fixtures of the oracle tests.

MDK (Profile A): every scenario on an open and on a NIP-42 AUTH relay, and one MDK peer
process per test (it holds any number of White Noise users).

Dark Matter (Profile B): ``dm_binaries`` builds (or reuses) the e43fd5e ``dm``/``dmd`` once
per session and fails loudly when it cannot; ``dm_users`` starts Dark Matter users (one
daemon each, on the test's relay only) and stops every daemon at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from tests.helpers.relay import RelayFactory, RelayProcess
from tests.oracle.dm_driver import DmUser
from tests.oracle.dm_install import ensure_darkmatter
from tests.oracle.mdk_driver import MdkPeer

DmUsers = Callable[[str, RelayProcess], Awaitable[DmUser]]


@pytest.fixture(params=["open", "auth"])
def any_relay(request: pytest.FixtureRequest, relay_factory: RelayFactory) -> RelayProcess:
    return relay_factory(auth=request.param == "auth")


@pytest_asyncio.fixture
async def peer() -> AsyncIterator[MdkPeer]:
    started = await MdkPeer.start()
    yield started
    await started.close()


@pytest.fixture(scope="session")
def dm_binaries() -> Path:
    return ensure_darkmatter()


@pytest_asyncio.fixture
async def dm_users(dm_binaries: Path, tmp_path: Path) -> AsyncIterator[DmUsers]:
    """``await dm_users("bob", relay)``: a started user with a fresh identity."""
    started: list[DmUser] = []

    async def start(name: str, relay: RelayProcess) -> DmUser:
        user = await DmUser.start(dm_binaries, tmp_path / f"dm-{name}", [relay.url])
        started.append(user)
        await user.create_identity()
        return user

    try:
        yield start
    finally:
        for user in started:
            await user.close()
