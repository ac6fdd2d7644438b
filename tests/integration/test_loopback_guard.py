"""Tests never dial a public address: the suite runs with ``BURROW_LOOPBACK_ONLY=1`` and
no discovery relays (tests/conftest.py), and the relay pool refuses what is off 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import nostr.relay.connection as connection_module
from app import AppConfig, Services
from app.config import DISCOVERY_RELAYS, PUBLIC_RELAYS
from nostr.relay import PoolOptions, RelayPool, RelayStatus
from nostr.relay.guard import is_loopback_url, refusal
from tests.helpers.app_clients import PASSPHRASE
from tests.helpers.relay import RelayProcess
from tests.helpers.storage_factories import FAST

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.fixture
def dialled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the relay pool opens a websocket to, in this process."""
    urls: list[str] = []
    real = connection_module.connect

    def spy(url: str, **kwargs: object) -> object:
        urls.append(url)
        return real(url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connection_module, "connect", spy)
    return urls


async def test_the_suite_runs_loopback_only_without_default_discovery() -> None:
    assert os.environ["BURROW_LOOPBACK_ONLY"] == "1"
    assert PoolOptions().loopback_only
    assert AppConfig.from_env(Path("/nonexistent")).discovery_relays == ()
    # Outside the test environment the defaults are public: the guard is what stops them.
    assert AppConfig.from_env(Path("/nonexistent"), {}).discovery_relays == DISCOVERY_RELAYS
    assert refusal("wss://relay.damus.io") is not None
    assert refusal("ws://127.0.0.1:4869") is None
    assert is_loopback_url("ws://[::1]:80") and is_loopback_url("ws://localhost:1")
    assert not is_loopback_url("wss://127.0.0.1.nip.io") and not is_loopback_url("wss://10.0.0.1")


async def test_the_pool_refuses_a_public_relay_without_dialling_it(
    relay: RelayProcess, dialled: list[str]
) -> None:
    changes = []
    async with RelayPool(on_status=changes.append) as pool:
        await pool.add_relay("wss://relay.damus.io")
        await pool.add_relay(relay.url)
        assert await pool.wait_connected([relay.url], timeout=5)
        for _ in range(100):
            if any(c.relay_url == "wss://relay.damus.io" and c.error for c in changes):
                break
            await asyncio.sleep(0.02)
        assert pool.status("wss://relay.damus.io") is not RelayStatus.CONNECTED
    refused = [c.error for c in changes if c.relay_url == "wss://relay.damus.io" and c.error]
    assert refused and "BURROW_LOOPBACK_ONLY" in refused[0]
    assert dialled == [relay.url]


async def test_an_account_on_the_public_defaults_dials_nothing_public(
    relay: RelayProcess, dialled: list[str], tmp_path: Path
) -> None:
    env = {**os.environ, "BURROW_LOCAL_RELAY": relay.url, "BURROW_EMBEDDED_RELAY": "0"}
    config = AppConfig.from_env(tmp_path, env)
    assert config.public_relays == PUBLIC_RELAYS
    services = Services(AppConfig(**{**_fields(config), "cipher": FAST}))
    try:
        session = await services.create_account("Alice", PASSPHRASE, "public")
        assert session.relays.mine == PUBLIC_RELAYS
        await session.relays.add(relay.url)
        await session.start(live=False)
        await session.flush(3)
    finally:
        await services.close()
    assert dialled, "the local relay was dialled"
    assert all(is_loopback_url(u) for u in dialled), dialled


def _fields(config: AppConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in AppConfig.__dataclass_fields__}
