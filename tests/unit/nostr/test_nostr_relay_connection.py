"""RelayConnection's publish loop against a socket that is already closed (no relay)."""

from __future__ import annotations

import asyncio

from websockets.exceptions import ConnectionClosed

from nostr.event import UnsignedEvent
from nostr.relay import RelayStatus
from nostr.relay.connection import RelayConnection
from nostr.relay.options import PoolOptions
from nostr.session import VerifiedEvents
from tests.helpers.nostr_factories import NOW, secret


class _ClosedSocket:
    """What websockets gives once the peer is gone: ``send`` raises without yielding."""

    def __init__(self) -> None:
        self.sends = 0

    async def send(self, _frame: str) -> None:
        self.sends += 1
        if self.sends > 50:  # the old loop spun here forever, with no way to time out
            raise AssertionError("publish keeps re-sending on a closed socket")
        raise ConnectionClosed(None, None)

    async def close(self) -> None:
        return None


def test_publish_on_a_socket_closed_under_it_waits_instead_of_spinning() -> None:
    async def scenario() -> tuple[object, int, bool]:
        conn = RelayConnection(
            "ws://127.0.0.1:1",
            options=PoolOptions(),
            signer=None,
            verified=VerifiedEvents(),
            on_event=lambda _url, _event: None,
            on_status=lambda _change: None,
        )
        socket = _ClosedSocket()
        # The state between the socket closing and the reader task noticing it.
        conn._ws = socket  # type: ignore[assignment]
        conn.session.connection_made()
        conn._connected.set()
        conn.status = RelayStatus.CONNECTED
        key = secret("alice")
        event = UnsignedEvent.create(key.public_key(), NOW, 1, "hello").sign(key)
        loop = asyncio.get_running_loop()
        result = await conn.publish(event, loop.time() + 0.2)
        return result, socket.sends, conn.is_connected

    result, sends, connected = asyncio.run(scenario())
    assert result is None  # timed out waiting for a new connection
    assert sends == 1
    assert not connected
