"""A scripted relay on 127.0.0.1 for hostile and edge-case tests (websockets server).

The real relay (``tests/helpers/relay.py``) behaves; this one misbehaves on purpose. A test
passes ``on_message(conn, message)``, an async function called for every client message
(parsed with ``parse_client_message``); the default answers ``REQ`` with ``EOSE`` and
``EVENT`` with ``OK true``. ``conn.send_raw(text)`` sends any frame, valid or not.
``SilentServer`` accepts and goes quiet; ``Gate`` stands between a client and a real relay
and cuts the network on demand.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from nostr.messages import (
    ClientEvent,
    ClientMessage,
    ClientReq,
    RelayEose,
    RelayOk,
    parse_client_message,
)

Handler = Callable[["FakeConnection", ClientMessage], Awaitable[None]]


class FakeConnection:
    def __init__(self, ws: ServerConnection, index: int) -> None:
        self.ws = ws
        self.index = index
        """0 for the first connection to this relay, 1 after one reconnect, ..."""

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def close(self) -> None:
        await self.ws.close()


async def default_handler(conn: FakeConnection, message: ClientMessage) -> None:
    if isinstance(message, ClientReq):
        await conn.send_raw(RelayEose(message.subscription_id).to_json())
    elif isinstance(message, ClientEvent):
        await conn.send_raw(RelayOk(message.event.id, True, "").to_json())


class FakeRelay:
    def __init__(self, on_message: Handler = default_handler, *, max_size: int = 1 << 22) -> None:
        self.on_message = on_message
        self.max_size = max_size
        self.received: list[ClientMessage] = []
        self.connections = 0
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aenter__(self) -> FakeRelay:
        self._server = await serve(self._serve, "127.0.0.1", 0, max_size=self.max_size)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, ws: ServerConnection) -> None:
        conn = FakeConnection(ws, self.connections)
        self.connections += 1
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                message = parse_client_message(frame)
                self.received.append(message)
                await self.on_message(conn, message)


class SilentServer:
    """TCP on 127.0.0.1 that can accept the websocket handshake and then go quiet.

    ``handshake=False``: never answers the HTTP upgrade (tests the connect timeout).
    ``handshake=True``: completes it, then never reads again, so pings get no pong
    (tests keepalive).
    """

    def __init__(self, *, handshake: bool) -> None:
        self.handshake = handshake
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.append(writer)
        request = await reader.readuntil(b"\r\n\r\n")
        if not self.handshake:
            return
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        magic = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        accept = base64.b64encode(hashlib.sha1(key + magic).digest())  # RFC 6455 fixes SHA-1 here
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()


class Gate:
    """A TCP pass-through on 127.0.0.1 to a relay, which a test can cut like a network.

    ``cut()`` aborts every open connection and makes new ones fail at the handshake until
    ``restore()``; the relay behind keeps running and storing what others publish.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.is_cut = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> Gate:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self.cut()
        self._server.close()
        await self._server.wait_closed()

    def cut(self) -> None:
        self.is_cut = True
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:  # the relay is down: so is this connection
            writer.transport.abort()
            return
        self._transports |= {writer.transport, up_writer.transport}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
