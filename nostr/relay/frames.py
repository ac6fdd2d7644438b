"""Dropping one oversize websocket message from a relay without dropping the connection.

websockets refuses a message beyond its ``max_size`` by closing the connection (1009). A
relay that stores one huge event (a stranger can post one) would then cost us the rest
of every request it answers, again on each reconnect. ``FrameFilter`` sits between the
socket and websockets (sans-I/O: bytes in, bytes out) and removes a whole data message
larger than ``cap`` from the byte stream: a single frame is skipped as it streams by (never
buffered), a fragmented message is held until its last fragment (at most ``cap`` bytes)
and released or discarded whole. Control frames pass at once. The connection must not
negotiate permessage-deflate: removing frames from a compressed stream would corrupt it.

Server frames are unmasked (RFC 6455 section 5.1); a masked one, or anything else
malformed, is passed on for websockets to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, auto

_HTTP_END = b"\r\n\r\n"
_HTTP_LIMIT = 1 << 16
"""Handshake bytes we look through for its end; beyond that websockets decides."""
_CONTINUATION = 0x0
_CONTROL = 0x8


class _Mode(Enum):
    PASS = auto()
    DROP = auto()
    HOLD = auto()


class FrameFilter:
    """Feed it what the socket read; hand on what it returns."""

    __slots__ = (
        "_cap",
        "_dropping",
        "_fin",
        "_head",
        "_held",
        "_mode",
        "_on_drop",
        "_remaining",
        "_seen",
        "_tail",
    )

    def __init__(self, cap: int, on_drop: Callable[[], None]) -> None:
        self._cap = cap
        self._on_drop = on_drop
        self._seen: int | None = 0
        """Handshake bytes seen so far; None once frames have begun."""
        self._tail = b""
        self._head = bytearray()
        self._held = bytearray()
        """The fragmented message being held back, headers included (empty: none)."""
        self._dropping = False
        """Inside a fragmented message that outgrew the cap: drop up to its last frame."""
        self._fin = 0
        """The current frame ends its message."""
        self._mode = _Mode.PASS
        self._remaining = 0
        """Payload bytes of the current frame still to come (0: a header comes next)."""

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        view = memoryview(data)
        if self._seen is not None:
            cut = self._handshake_end(data)
            out += view[:cut]
            view = view[cut:]
        while view:
            if self._remaining:
                take = min(self._remaining, len(view))
                self._payload(view[:take], out)
                self._remaining -= take
                view = view[take:]
            else:
                view = self._header(view, out)
        return bytes(out)

    def _handshake_end(self, data: bytes) -> int:
        """How much of ``data`` is still the HTTP response (it passes untouched)."""
        assert self._seen is not None
        joined = self._tail + data
        end = joined.find(_HTTP_END)
        if end >= 0:
            self._seen = None
            return end + len(_HTTP_END) - len(self._tail)
        self._seen += len(data)
        self._tail = joined[-3:]
        if self._seen > _HTTP_LIMIT:
            self._seen = None  # not a handshake we understand: websockets will refuse it
        return len(data)

    def _header(self, view: memoryview, out: bytearray) -> memoryview:
        need = _header_length(self._head, view)
        take = min(need - len(self._head), len(view))
        self._head += view[:take]
        if len(self._head) < need:
            return view[take:]
        head, self._head = bytes(self._head), bytearray()
        self._start_frame(head, out)
        return view[take:]

    def _start_frame(self, head: bytes, out: bytearray) -> None:
        fin, opcode, length = head[0] & 0x80, head[0] & 0x0F, _payload_length(head)
        self._fin, self._remaining = fin, length
        if opcode & _CONTROL or head[1] & 0x80:
            self._mode = _Mode.PASS  # control frame, or masked (websockets refuses it)
            out += head
        elif self._dropping:
            self._mode = _Mode.DROP
            self._dropping = not fin
        elif self._held or (opcode != _CONTINUATION and not fin):
            self._hold(head, length)
        elif length > self._cap:
            self._mode = _Mode.DROP
            self._on_drop()
        else:
            self._mode = _Mode.PASS
            out += head
        if not length:
            self._end_frame(out)

    def _hold(self, head: bytes, length: int) -> None:
        if len(self._held) + length > self._cap:
            self._held.clear()
            self._dropping = not self._fin
            self._mode = _Mode.DROP
            self._on_drop()
            return
        self._mode = _Mode.HOLD
        self._held += head

    def _payload(self, chunk: memoryview, out: bytearray) -> None:
        if self._mode is _Mode.PASS:
            out += chunk
        elif self._mode is _Mode.HOLD:
            self._held += chunk
        if self._remaining == len(chunk):
            self._end_frame(out)

    def _end_frame(self, out: bytearray) -> None:
        """A held message's last frame is in: release it whole."""
        if self._mode is _Mode.HOLD and self._fin:
            out += self._held
            self._held.clear()


def _header_length(head: bytearray, view: memoryview) -> int:
    """Bytes in the frame header whose first bytes are ``head`` (+ ``view``); 2 when the
    second byte is not known yet."""
    if len(head) + len(view) < 2:
        return 2
    second = head[1] if len(head) > 1 else view[1 - len(head)]
    size = {126: 4, 127: 10}.get(second & 0x7F, 2)
    return size + (4 if second & 0x80 else 0)


def _payload_length(head: bytes) -> int:
    short = head[1] & 0x7F
    if short == 126:
        return int.from_bytes(head[2:4], "big")
    if short == 127:
        return int.from_bytes(head[2:10], "big")
    return short
