"""Fixtures of the MDK oracle tests: every scenario on an open and on a NIP-42 AUTH relay,
and one MDK peer process per test (it holds any number of White Noise users)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.helpers.relay import RelayFactory, RelayProcess
from tests.oracle.mdk_driver import MdkPeer


@pytest.fixture(params=["open", "auth"])
def any_relay(request: pytest.FixtureRequest, relay_factory: RelayFactory) -> RelayProcess:
    return relay_factory(auth=request.param == "auth")


@pytest_asyncio.fixture
async def peer() -> AsyncIterator[MdkPeer]:
    started = await MdkPeer.start()
    yield started
    await started.close()
