"""Fixtures of the oracle tests.

MDK (Profile A): every scenario on an open and on a NIP-42 AUTH relay, and one MDK peer
process per test (it holds any number of White Noise users).

Dark Matter (Profile B): ``dm_binaries`` is the e43fd5e ``dm``/``dmd``, built (or reused)
once collection is over, so a cold build (about 20 min) runs outside any test's timeout;
when it cannot be built every test using it fails with the reason (never skipped).
``dm_users`` starts Dark Matter users (one daemon each, on the test's relay only) and
stops every daemon at teardown."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from tests.helpers.relay import RelayFactory, RelayProcess
from tests.oracle.dm_driver import DmUser
from tests.oracle.dm_install import DarkMatterUnavailable, ensure_darkmatter
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


_BUILT: list[Path | DarkMatterUnavailable] = []


def _build_once() -> Path:
    if not _BUILT:
        try:
            _BUILT.append(ensure_darkmatter())
        except DarkMatterUnavailable as exc:
            _BUILT.append(exc)
    built = _BUILT[0]
    if isinstance(built, DarkMatterUnavailable):
        raise built
    return built


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("dm_binaries" in getattr(item, "fixturenames", ()) for item in session.items):
        with contextlib.suppress(DarkMatterUnavailable):  # each test using it fails with it
            _build_once()


@pytest.fixture(scope="session")
def dm_binaries() -> Path:
    return _build_once()


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
