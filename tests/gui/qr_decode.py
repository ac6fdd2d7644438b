"""A test-only QR decoder for clean module matrices (byte mode; any level; versions 1-10).

Written separately from ``ui/qr.py`` and from the standard's description rather than the
encoder's tables: block sizes are derived from total codeword counts, the Galois field is
built by repeated doubling, error correction is checked by syndromes, and the function
patterns are verified module by module. It raises ``QrDecodeError`` on anything wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

Matrix = Sequence[Sequence[bool]]

# version -> total codewords; level -> version -> (blocks, EC codewords per block)
TOTAL_CODEWORDS = {1: 26, 2: 44, 3: 70, 4: 100, 5: 134, 6: 172, 7: 196, 8: 242, 9: 292, 10: 346}
LEVEL_BLOCKS = {
    "M": {1: (1, 10), 2: (1, 16), 3: (1, 26), 4: (2, 18), 5: (2, 24),
          6: (4, 16), 7: (4, 18), 8: (4, 22), 9: (5, 22), 10: (5, 26)},
}  # fmt: skip
LEVEL_CODE = {"L": 1, "M": 0, "Q": 3, "H": 2}
ALIGN_STEP_LAST = {2: 18, 3: 22, 4: 26, 5: 30, 6: 34, 7: 38, 8: 42, 9: 46, 10: 50}


class QrDecodeError(Exception):
    pass


def _gf() -> tuple[dict[int, int], list[int]]:
    powers = []
    value = 1
    for _ in range(255):
        powers.append(value)
        value *= 2
        if value > 255:
            value ^= 0x11D
    logs = {p: i for i, p in enumerate(powers)}
    return logs, powers


LOGS, POWERS = _gf()


def gf_times(a: int, b: int) -> int:
    if not a or not b:
        return 0
    return POWERS[(LOGS[a] + LOGS[b]) % 255]


def poly_mod2(value: int, generator: int) -> int:
    while value.bit_length() >= generator.bit_length():
        value ^= generator << (value.bit_length() - generator.bit_length())
    return value


def expected_format(level: str, mask: int) -> int:
    data = LEVEL_CODE[level] << 3 | mask
    return (data << 10 | poly_mod2(data << 10, 0b10100110111)) ^ 0b101010000010010


def expected_version_info(version: int) -> int:
    return version << 12 | poly_mod2(version << 12, 0b1111100100101)


def alignment_centres(version: int) -> list[int]:
    if version == 1:
        return []
    last = ALIGN_STEP_LAST[version]
    count = version // 7 + 2
    step = (last - 6) // (count - 1)
    return [6] + [last - step * k for k in range(count - 2, -1, -1)]


def function_modules(version: int) -> set[tuple[int, int]]:
    n = 17 + 4 * version
    cells: set[tuple[int, int]] = set()
    for r0, c0 in ((0, 0), (0, n - 8), (n - 8, 0)):
        cells |= {(r, c) for r in range(r0, r0 + 8) for c in range(c0, c0 + 8)}
    cells |= {(6, i) for i in range(n)} | {(i, 6) for i in range(n)}
    cells |= {(8, i) for i in range(9)} | {(i, 8) for i in range(9)}
    cells |= {(8, n - 1 - i) for i in range(8)} | {(n - 1 - i, 8) for i in range(8)}
    centres = alignment_centres(version)
    for r in centres:
        for c in centres:
            if (r, c) in ((6, 6), (6, centres[-1]), (centres[-1], 6)):
                continue
            cells |= {(r + dr, c + dc) for dr in range(-2, 3) for dc in range(-2, 3)}
    if version >= 7:
        cells |= {(r, c) for r in range(6) for c in range(n - 11, n - 8)}
        cells |= {(r, c) for r in range(n - 11, n - 8) for c in range(6)}
    return cells


def _check_patterns(m: Matrix, version: int) -> None:
    n = len(m)
    for r0, c0 in ((0, 0), (0, n - 7), (n - 7, 0)):
        for dr in range(7):
            for dc in range(7):
                ring = max(abs(dr - 3), abs(dc - 3))
                if m[r0 + dr][c0 + dc] != (ring != 2):
                    raise QrDecodeError(f"finder at {(r0, c0)} is damaged")
    for i in range(8, n - 8):
        if m[6][i] != (i % 2 == 0) or m[i][6] != (i % 2 == 0):
            raise QrDecodeError("timing pattern is damaged")
    if not m[n - 8][8]:
        raise QrDecodeError("the dark module is missing")
    if version >= 7:
        info = expected_version_info(version)
        for i in range(18):
            bit = bool(info >> i & 1)
            if m[i // 3][n - 11 + i % 3] != bit or m[n - 11 + i % 3][i // 3] != bit:
                raise QrDecodeError("version information does not match the size")


def _read_format(m: Matrix) -> tuple[str, int]:
    n = len(m)
    one = [m[r][8] for r in (0, 1, 2, 3, 4, 5, 7, 8)] + [m[8][c] for c in (7, 5, 4, 3, 2, 1, 0)]
    two = [m[8][n - 1 - i] for i in range(8)] + [m[n - 7 + i][8] for i in range(7)]
    a = sum(bit << i for i, bit in enumerate(one))
    b = sum(bit << i for i, bit in enumerate(two))
    if a != b:
        raise QrDecodeError("the two copies of the format information differ")
    for level in LEVEL_CODE:
        for mask in range(8):
            if expected_format(level, mask) == a:
                return level, mask
    raise QrDecodeError("format information is not a valid code word")


def _mask_bit(mask: int, r: int, c: int) -> bool:
    rules = {
        0: (r + c) % 2 == 0,
        1: r % 2 == 0,
        2: c % 3 == 0,
        3: (r + c) % 3 == 0,
        4: (r // 2 + c // 3) % 2 == 0,
        5: (r * c) % 2 + (r * c) % 3 == 0,
        6: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
        7: ((r * c) % 3 + (r + c) % 2) % 2 == 0,
    }
    return rules[mask]


def _read_codewords(m: Matrix, version: int, mask: int) -> list[int]:
    n = len(m)
    skip = function_modules(version)
    bits: list[int] = []
    col = n - 1
    going_up = True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(n - 1, -1, -1) if going_up else range(n)
        for r in rows:
            for c in (col, col - 1):
                if (r, c) not in skip:
                    bits.append(int(m[r][c] != _mask_bit(mask, r, c)))
        going_up = not going_up
        col -= 2
    total = TOTAL_CODEWORDS[version]
    return [int("".join(map(str, bits[8 * i : 8 * i + 8])), 2) for i in range(total)]


def _deinterleave(words: list[int], version: int, level: str) -> list[int]:
    blocks, ec = LEVEL_BLOCKS[level][version]
    data_total = TOTAL_CODEWORDS[version] - blocks * ec
    short = data_total // blocks
    long_count = data_total % blocks
    sizes = [short] * (blocks - long_count) + [short + 1] * long_count
    data_blocks: list[list[int]] = [[] for _ in range(blocks)]
    ec_blocks: list[list[int]] = [[] for _ in range(blocks)]
    it = iter(words)
    for i in range(short + 1):
        for b in range(blocks):
            if i < sizes[b]:
                data_blocks[b].append(next(it))
    for _ in range(ec):
        for b in range(blocks):
            ec_blocks[b].append(next(it))
    for d, e in zip(data_blocks, ec_blocks, strict=True):
        check_syndromes(d + e, ec)
    return [w for d in data_blocks for w in d]


def check_syndromes(codeword: list[int], ec: int) -> None:
    for i in range(ec):
        x = POWERS[i]
        acc = 0
        for coefficient in codeword:
            acc = gf_times(acc, x) ^ coefficient
        if acc:
            raise QrDecodeError(f"Reed-Solomon syndrome {i} is not zero")


def _parse(data: list[int], version: int) -> bytes:
    bits = "".join(f"{w:08b}" for w in data)
    if bits[:4] != "0100":
        raise QrDecodeError(f"unsupported mode {bits[:4]}")
    count_len = 8 if version < 10 else 16
    count = int(bits[4 : 4 + count_len], 2)
    start = 4 + count_len
    payload = bytes(int(bits[start + 8 * i : start + 8 * i + 8], 2) for i in range(count))
    rest = bits[start + 8 * count :]
    if "1" in rest[: min(4, len(rest))]:
        raise QrDecodeError("terminator is not zero")
    tail = data[(start + 8 * count + 4 + 7) // 8 :]
    if any(w != (0xEC, 0x11)[i % 2] for i, w in enumerate(tail)):
        raise QrDecodeError("pad codewords are wrong")
    return payload


def decode(m: Matrix) -> tuple[bytes, int, str, int]:
    """(payload, version, level, mask) of a clean symbol without quiet zone."""
    n = len(m)
    if any(len(row) != n for row in m) or (n - 17) % 4 or not 1 <= (n - 17) // 4 <= 10:
        raise QrDecodeError(f"a {n}-module symbol is not a version 1-10 QR code")
    version = (n - 17) // 4
    _check_patterns(m, version)
    level, mask = _read_format(m)
    words = _read_codewords(m, version, mask)
    return _parse(_deinterleave(words, version, level), version), version, level, mask
