"""BIP-350 Bech32m, for the Marmot invite code (``marmot1...``).

Only the checksum constant differs from NIP-19's bech32 (``nostr.bech32``); the invite
code also needs a longer limit (7000 characters) and must refuse the bech32 variant.
Producers write lowercase; readers take all-lowercase or all-uppercase.
"""

from __future__ import annotations

from marmot.errors import MarmotError

__all__ = ["Bech32mError", "decode", "encode"]

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32M = 0x2BC830A3


class Bech32mError(MarmotError):
    """Not a valid Bech32m string (case, charset, checksum, padding, length)."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATORS):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    top = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & top)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & top)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & top):
        raise Bech32mError("bech32m data has excess or nonzero padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    words = _regroup(list(data), 8, 5, pad=True)
    checksum = _polymod([*_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ _BECH32M
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words)


def decode(text: str, *, max_length: int) -> tuple[str, bytes]:
    if len(text) > max_length:
        raise Bech32mError(f"bech32m string longer than {max_length} characters")
    if text.lower() != text and text.upper() != text:
        raise Bech32mError("bech32m string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or any(not 33 <= ord(c) <= 126 for c in text[:pos]):
        raise Bech32mError("bech32m string has no valid separator or prefix")
    try:
        words = [_VALUES[c] for c in text[pos + 1 :]]
    except KeyError:
        raise Bech32mError("bech32m data has an invalid character") from None
    check = _polymod(_hrp_expand(text[:pos]) + words)
    if check == 1:
        raise Bech32mError("a bech32 checksum, not bech32m")
    if check != _BECH32M:
        raise Bech32mError("bech32m checksum mismatch")
    return text[:pos], bytes(_regroup(words[:-6], 5, 8, pad=False))
