"""FrameFilter: oversize websocket messages leave the byte stream whole, the rest is intact,
however the socket splits the bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nostr.relay.frames import FrameFilter

CAP = 300
HANDSHAKE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"


def frame(payload: bytes, *, opcode: int = 0x1, fin: bool = True, masked: bool = False) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    mask = 0x80 if masked else 0
    if n < 126:
        head = bytes((first, mask | n))
    elif n < 1 << 16:
        head = bytes((first, mask | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, mask | 127)) + n.to_bytes(8, "big")
    return head + (b"\0\0\0\0" if masked else b"") + payload


def fragments(payload: bytes, size: int) -> bytes:
    parts = [payload[i : i + size] for i in range(0, len(payload), size)]
    return b"".join(
        frame(p, opcode=0x1 if i == 0 else 0x0, fin=i == len(parts) - 1)
        for i, p in enumerate(parts)
    )


def run(stream: bytes, cuts: list[int]) -> tuple[bytes, int]:
    dropped = []
    frames = FrameFilter(CAP, lambda: dropped.append(1))
    out, last = b"", 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        out += frames.feed(stream[last:cut])
        last = max(last, cut)
    return out, len(dropped)


SMALL = frame(b"a" * 20)
PING = frame(b"p", opcode=0x9)
BIG = frame(b"b" * 70_000)  # a 64-bit length
MID = frame(b"m" * 400)  # a 16-bit length, over the cap
SPLIT_SMALL = fragments(b"s" * 250, 100)
SPLIT_BIG = fragments(b"z" * 1000, 200)


@given(st.lists(st.integers(min_value=0), max_size=12))
def test_whatever_the_chunking_only_the_oversize_messages_go(cuts: list[int]) -> None:
    stream = HANDSHAKE + SMALL + BIG + PING + SPLIT_SMALL + MID + SPLIT_BIG + SMALL
    out, dropped = run(stream, cuts)
    assert out == HANDSHAKE + SMALL + PING + SPLIT_SMALL + SMALL
    assert dropped == 3


def test_control_frames_inside_a_dropped_message_still_pass() -> None:
    first, rest = frame(b"x" * 200, fin=False), frame(b"y" * 200, opcode=0x0)
    out, dropped = run(HANDSHAKE + first + PING + rest + SMALL, [])
    assert (out, dropped) == (HANDSHAKE + PING + SMALL, 1)


def test_empty_frames_and_masked_frames_pass_for_websockets_to_judge() -> None:
    empty_split = frame(b"", fin=False) + frame(b"", opcode=0x0)
    masked = frame(b"x" * 400, masked=True)
    out, dropped = run(HANDSHAKE + empty_split + masked, [5, 60])
    assert (out, dropped) == (HANDSHAKE + empty_split + masked, 0)


def test_an_endless_handshake_is_left_to_websockets() -> None:
    junk = b"H" * 70_000 + MID
    out, dropped = run(junk, [1000, 40_000])
    assert (out, dropped) == (junk, 0)
