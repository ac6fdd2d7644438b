"""A small QR Code encoder (ISO/IEC 18004): byte mode, error correction level M, versions 1-10.

Enough for an npub (63 characters, version 5) or an nprofile with a few relays (up to 213
bytes). Pure Python, no Qt: ``encode`` returns the module matrix and widgets draw it.

Steps, as in the standard: pick the smallest version that fits; build the bit stream (mode
0100, 8- or 16-bit count, data, terminator, pad bytes 0xEC/0x11); split it into blocks and
append Reed-Solomon codewords over GF(256) (polynomial 0x11D, generator roots a^0..a^(n-1));
interleave; draw the function patterns; place the codewords in the two-column zigzag; try all
eight masks and keep the one with the lowest penalty; write the BCH-protected format and
version information.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import groupby, pairwise

MAX_VERSION = 10
_MODE_BYTE = 0b0100
_ECL_M = 0b00  # the format-information code of level M

# version -> (EC codewords per block, ((block count, data codewords per block), ...))
_BLOCKS_M: dict[int, tuple[int, tuple[tuple[int, int], ...]]] = {
    1: (10, ((1, 16),)),
    2: (16, ((1, 28),)),
    3: (26, ((1, 44),)),
    4: (18, ((2, 32),)),
    5: (24, ((2, 43),)),
    6: (16, ((4, 27),)),
    7: (18, ((4, 31),)),
    8: (22, ((2, 38), (2, 39))),
    9: (22, ((3, 36), (2, 37))),
    10: (26, ((4, 43), (1, 44))),
}
_ALIGNMENT: dict[int, tuple[int, ...]] = {
    1: (),
    2: (6, 18),
    3: (6, 22),
    4: (6, 26),
    5: (6, 30),
    6: (6, 34),
    7: (6, 22, 38),
    8: (6, 24, 42),
    9: (6, 26, 46),
    10: (6, 28, 50),
}


class DataTooLong(ValueError):
    """The data does not fit in a version-10 symbol at level M (213 bytes)."""


@dataclass(frozen=True, slots=True)
class QrCode:
    version: int
    mask: int
    modules: tuple[tuple[bool, ...], ...]  # rows of modules, True = dark

    @property
    def size(self) -> int:
        return len(self.modules)


def data_capacity(version: int) -> int:
    """Data codewords of ``version`` at level M."""
    return sum(count * size for count, size in _BLOCKS_M[version][1])


def byte_capacity(version: int) -> int:
    """How many bytes fit in byte mode."""
    return (data_capacity(version) * 8 - 4 - _count_bits(version)) // 8


def encode(data: bytes, *, mask: int | None = None) -> QrCode:
    """The smallest level-M symbol holding ``data``; ``mask`` forces a mask (0-7) for tests."""
    version = next((v for v in range(1, MAX_VERSION + 1) if len(data) <= byte_capacity(v)), 0)
    if not version:
        raise DataTooLong(f"{len(data)} bytes do not fit in a QR code up to version {MAX_VERSION}")
    codewords = _interleave(version, _data_codewords(version, data))
    grid = _Grid(version)
    grid.place(codewords)
    candidates = {}
    for m in range(8) if mask is None else (mask,):
        candidates[m] = grid.masked(m)
        _draw_format(candidates[m], m)
    best = min(candidates, key=lambda m: penalty(candidates[m]))
    return QrCode(version, best, tuple(tuple(row) for row in candidates[best]))


# --- bit stream and error correction --------------------------------------------------------


def _count_bits(version: int) -> int:
    return 8 if version <= 9 else 16


def _data_codewords(version: int, data: bytes) -> bytes:
    capacity = data_capacity(version) * 8
    bits = f"{_MODE_BYTE:04b}{len(data):0{_count_bits(version)}b}"
    bits += "".join(f"{b:08b}" for b in data)
    bits += "0" * min(4, capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    out = bytearray(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    pad = (0xEC, 0x11)
    out.extend(pad[i % 2] for i in range(capacity // 8 - len(out)))
    return bytes(out)


def _interleave(version: int, data: bytes) -> bytes:
    ec_len, groups = _BLOCKS_M[version]
    blocks: list[bytes] = []
    start = 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(data[start : start + size])
            start += size
    ecc = [rs_remainder(block, ec_len) for block in blocks]
    out = bytearray()
    for i in range(max(len(b) for b in blocks)):
        out.extend(b[i] for b in blocks if i < len(b))
    for i in range(ec_len):
        out.extend(e[i] for e in ecc)
    return bytes(out)


def _gf_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


@cache
def _generator(degree: int) -> tuple[int, ...]:
    """Coefficients (highest power first, leading 1 dropped) of prod (x - a^i), i < degree."""
    poly = [1]
    for i in range(degree):
        root = _EXP[i]
        poly = [
            (poly[j] if j < len(poly) else 0) ^ (_gf_mul(poly[j - 1], root) if j > 0 else 0)
            for j in range(len(poly) + 1)
        ]
    return tuple(poly[1:])


def rs_remainder(data: bytes, degree: int) -> bytes:
    """The ``degree`` Reed-Solomon check codewords of ``data``."""
    gen = _generator(degree)
    rem = [0] * degree
    for byte in data:
        factor = byte ^ rem[0]
        rem = [*rem[1:], 0]
        if factor:
            for i, g in enumerate(gen):
                rem[i] ^= _gf_mul(g, factor)
    return bytes(rem)


def _bch(data: int, data_bits: int, poly: int) -> int:
    """``data`` followed by its BCH remainder modulo ``poly``."""
    degree = poly.bit_length() - 1
    rem = data << degree
    for shift in range(data_bits - 1, -1, -1):
        if rem >> (shift + degree) & 1:
            rem ^= poly << shift
    return data << degree | rem


def format_bits(mask: int) -> int:
    """The 15 format bits for level M and ``mask``, already XOR-ed with 0x5412."""
    return _bch(_ECL_M << 3 | mask, 5, 0x537) ^ 0x5412


def version_bits(version: int) -> int:
    """The 18 version-information bits (versions 7 and up)."""
    return _bch(version, 6, 0x1F25)


# --- the module matrix ----------------------------------------------------------------------


class _Grid:
    """Function patterns plus the zigzag data placement, before masking."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.size = n = 17 + 4 * version
        self.dark = [[False] * n for _ in range(n)]
        self.function = [[False] * n for _ in range(n)]
        for r, c in ((3, 3), (3, n - 4), (n - 4, 3)):
            self._finder(r, c)
        for i in range(8, n - 8):
            self._set(6, i, i % 2 == 0)
            self._set(i, 6, i % 2 == 0)
        centres = _ALIGNMENT[version]
        corners = {(6, 6), (6, centres[-1] if centres else 0), (centres[-1] if centres else 0, 6)}
        for r in centres:
            for c in centres:
                if (r, c) not in corners:
                    self._alignment(r, c)
        self._reserve_format()
        if version >= 7:
            bits = version_bits(version)
            for i in range(18):
                a, b = n - 11 + i % 3, i // 3
                self._set(b, a, bits >> i & 1 == 1)
                self._set(a, b, bits >> i & 1 == 1)

    def _set(self, r: int, c: int, dark: bool) -> None:
        self.dark[r][c] = dark
        self.function[r][c] = True

    def _finder(self, cr: int, cc: int) -> None:
        # 7x7 finder plus its one-module light separator, clipped at the symbol edge.
        for dr in range(-4, 5):
            for dc in range(-4, 5):
                r, c = cr + dr, cc + dc
                if 0 <= r < self.size and 0 <= c < self.size:
                    self._set(r, c, max(abs(dr), abs(dc)) not in (2, 4))

    def _alignment(self, cr: int, cc: int) -> None:
        for dr in range(-2, 3):
            for dc in range(-2, 3):
                self._set(cr + dr, cc + dc, max(abs(dr), abs(dc)) != 1)

    def _reserve_format(self) -> None:
        n = self.size
        for i in range(9):
            if not self.function[8][i]:
                self._set(8, i, False)
            if not self.function[i][8]:
                self._set(i, 8, False)
        for i in range(8):
            self._set(8, n - 1 - i, False)
            self._set(n - 1 - i, 8, False)
        self._set(n - 8, 8, True)  # the "dark module"

    def place(self, codewords: bytes) -> None:
        bits = [b >> (7 - k) & 1 == 1 for b in codewords for k in range(8)]
        i = 0
        right = self.size - 1
        upward = True
        while right >= 1:
            if right == 6:  # the vertical timing pattern is skipped as a whole column
                right = 5
            for step in range(self.size):
                r = self.size - 1 - step if upward else step
                for c in (right, right - 1):
                    if not self.function[r][c] and i < len(bits):
                        self.dark[r][c] = bits[i]
                        i += 1
            upward = not upward
            right -= 2

    def masked(self, mask: int) -> list[list[bool]]:
        test = _MASKS[mask]
        return [
            [d != (not f and test(r, c)) for c, (d, f) in enumerate(zip(drow, frow, strict=True))]
            for r, (drow, frow) in enumerate(zip(self.dark, self.function, strict=True))
        ]


_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: (r * c) % 2 + (r * c) % 3 == 0,
    lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
)


def _draw_format(modules: list[list[bool]], mask: int) -> None:
    n = len(modules)
    bits = format_bits(mask)
    first = (
        [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)] + [(8, 14 - i) for i in range(9, 15)]
    )
    second = [(8, n - 1 - i) for i in range(8)] + [(n - 15 + i, 8) for i in range(8, 15)]
    for i, (r, c) in enumerate(first):
        modules[r][c] = bits >> i & 1 == 1
    for i, (r, c) in enumerate(second):
        modules[r][c] = bits >> i & 1 == 1


# --- mask penalty ---------------------------------------------------------------------------

_FINDER_LIKE = ("10111010000", "00001011101")


def penalty(modules: list[list[bool]]) -> int:
    """The standard's four penalty rules (runs, 2x2 blocks, finder look-alikes, balance)."""
    rows = ["".join("1" if d else "0" for d in row) for row in modules]
    cols = ["".join(col) for col in zip(*rows, strict=True)]
    score = 0
    for line in rows + cols:
        for _, run in groupby(line):
            length = sum(1 for _ in run)
            if length >= 5:
                score += length - 2
        for pattern in _FINDER_LIKE:
            start = line.find(pattern)
            while start != -1:
                score += 40
                start = line.find(pattern, start + 1)
    for upper, lower in pairwise(rows):
        for c in range(len(upper) - 1):
            if upper[c] == upper[c + 1] == lower[c] == lower[c + 1]:
                score += 3
    total = len(rows) ** 2
    dark = sum(line.count("1") for line in rows)
    score += 10 * (abs(dark * 20 - total * 10) // total)
    return score
