"""The shared relay fixture itself: ports, readiness, stop/kill/restart, persistence."""

from __future__ import annotations

import socket

import pytest

from nostr.filters import Filter
from nostr.relay import RelayPool
from tests.helpers.nostr_factories import make_event
from tests.helpers.relay import HOST, RelayFactory, RelayProcess

pytestmark = pytest.mark.integration


def _serves(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_relay_serves_on_loopback_until_stopped(relay: RelayProcess) -> None:
    assert relay.running
    assert relay.port is not None
    assert relay.url == f"ws://127.0.0.1:{relay.port}"
    assert _serves(relay.port)
    relay.stop()
    assert not relay.running
    assert not _serves(relay.port)


def test_kill_and_restart_keep_the_port(relay_factory: RelayFactory) -> None:
    relay = relay_factory()
    port = relay.port
    relay.kill()
    assert not relay.running
    relay.restart()
    assert relay.port == port
    assert _serves(port)
    relay.restart(kill=True)
    assert relay.port == port
    assert relay.running


def test_factory_gives_distinct_relays(relay_factory: RelayFactory) -> None:
    relays = [relay_factory() for _ in range(3)]
    assert len({r.port for r in relays}) == 3
    assert all(r.running for r in relays)


def test_process_handle_as_context_manager() -> None:
    with RelayProcess(log_path=None) as relay:
        assert relay.port is not None and _serves(relay.port)
    assert not relay.running
    with pytest.raises(ValueError, match="rate_limit"):
        RelayProcess(rate_limit="fast")
    with pytest.raises(RuntimeError):
        _ = RelayProcess().url


@pytest.mark.asyncio
async def test_persistent_relay_keeps_events_across_a_crash(relay_factory: RelayFactory) -> None:
    relay = relay_factory(persist=True)
    event = make_event(content="survives")
    async with RelayPool() as pool:
        await pool.add_relay(relay.url)
        assert (await pool.publish(event)).success
    relay.restart(kill=True)
    async with RelayPool() as pool:
        await pool.add_relay(relay.url)
        assert await pool.fetch([Filter(ids={event.id})], timeout=5) == [event]


@pytest.mark.asyncio
async def test_in_memory_relay_forgets_on_restart(relay: RelayProcess) -> None:
    event = make_event(content="forgotten")
    async with RelayPool() as pool:
        await pool.add_relay(relay.url)
        assert (await pool.publish(event)).success
    relay.restart()
    async with RelayPool() as pool:
        await pool.add_relay(relay.url)
        assert await pool.fetch([Filter(ids={event.id})], timeout=5) == []
