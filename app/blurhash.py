"""BlurHash encoding (https://blurha.sh): a short base-83 string a receiver paints as a
blurred placeholder before the image itself has arrived.

The image is described by ``x * y`` cosine components of its linear-light colour; White
Noise (MDK) uses 4 x 3 components of the image scaled to fit 32 x 32, and so do we.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_LINEAR = [
    c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    for c in (i / 255 for i in range(256))
]


def base83(value: int, length: int) -> str:
    return "".join(_ALPHABET[(value // 83**i) % 83] for i in range(length - 1, -1, -1))


def _to_srgb(value: float) -> int:
    v = min(1.0, max(0.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _signed_pow(value: float, exp: float) -> float:
    return math.copysign(abs(value) ** exp, value)


def encode(rgb: bytes, width: int, height: int, x: int = 4, y: int = 3) -> str:
    """The BlurHash of ``width * height`` pixels given as packed 8-bit RGB."""
    if not (1 <= x <= 9 and 1 <= y <= 9):
        raise ValueError("BlurHash takes 1 to 9 components per axis")
    if width < 1 or height < 1 or len(rgb) != width * height * 3:
        raise ValueError("pixel data does not match the size")
    linear = [_LINEAR[b] for b in rgb]
    cos_x = [[math.cos(math.pi * i * px / width) for px in range(width)] for i in range(x)]
    cos_y = [[math.cos(math.pi * j * py / height) for py in range(height)] for j in range(y)]
    factors: list[tuple[float, float, float]] = []
    for j in range(y):
        for i in range(x):
            r = g = b = 0.0
            for py in range(height):
                cy = cos_y[j][py]
                row = py * width * 3
                for px in range(width):
                    basis = cy * cos_x[i][px]
                    k = row + px * 3
                    r += basis * linear[k]
                    g += basis * linear[k + 1]
                    b += basis * linear[k + 2]
            scale = (1 if i == j == 0 else 2) / (width * height)
            factors.append((r * scale, g * scale, b * scale))
    return _pack(factors, x, y)


def _pack(factors: Sequence[tuple[float, float, float]], x: int, y: int) -> str:
    dc, ac = factors[0], factors[1:]
    out = base83((x - 1) + (y - 1) * 9, 1)
    if ac:
        actual = max(abs(c) for f in ac for c in f)
        quantised = max(0, min(82, math.floor(actual * 166 - 0.5)))
        maximum = (quantised + 1) / 166
        out += base83(quantised, 1)
    else:
        maximum = 1.0
        out += base83(0, 1)
    out += base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    for f in ac:
        q = [max(0, min(18, math.floor(_signed_pow(c / maximum, 0.5) * 9 + 9.5))) for c in f]
        out += base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2)
    return out


def _unbase83(text: str) -> int:
    value = 0
    for ch in text:
        digit = _ALPHABET.find(ch)
        if digit < 0:
            raise ValueError(f"{ch!r} is not a BlurHash digit")
        value = value * 83 + digit
    return value


def _components(blurhash: str) -> tuple[int, int, list[tuple[float, float, float]]]:
    if len(blurhash) < 6:
        raise ValueError("a BlurHash has at least 6 characters")
    size = _unbase83(blurhash[0])
    x, y = size % 9 + 1, size // 9 + 1
    if len(blurhash) != 4 + 2 * x * y:
        raise ValueError("BlurHash length does not match its component count")
    maximum = (_unbase83(blurhash[1]) + 1) / 166
    dc = _unbase83(blurhash[2:6])
    colours = [(_LINEAR[dc >> 16], _LINEAR[(dc >> 8) & 255], _LINEAR[dc & 255])]
    for n in range(1, x * y):
        v = _unbase83(blurhash[4 + 2 * n : 6 + 2 * n])
        q = (v // (19 * 19), (v // 19) % 19, v % 19)
        r, g, b = (_signed_pow((c - 9) / 9, 2.0) * maximum for c in q)
        colours.append((r, g, b))
    return x, y, colours


def decode(blurhash: str, width: int, height: int) -> bytes:
    """``width * height`` packed 8-bit RGB pixels painted from a BlurHash (the receiver's
    placeholder); `ValueError` for a malformed hash."""
    if width < 1 or height < 1 or width * height > 128 * 128:
        raise ValueError("placeholders are at most 128 x 128 pixels")
    x, y, colours = _components(blurhash)
    cos_x = [[math.cos(math.pi * i * px / width) for i in range(x)] for px in range(width)]
    cos_y = [[math.cos(math.pi * j * py / height) for j in range(y)] for py in range(height)]
    out = bytearray()
    for py in range(height):
        for px in range(width):
            r = g = b = 0.0
            for j in range(y):
                for i in range(x):
                    basis = cos_x[px][i] * cos_y[py][j]
                    c = colours[i + j * x]
                    r += c[0] * basis
                    g += c[1] * basis
                    b += c[2] * basis
            out += bytes((_to_srgb(r), _to_srgb(g), _to_srgb(b)))
    return bytes(out)
