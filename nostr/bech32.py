"""BIP-173 bech32 (the original checksum, as NIP-19 uses) and BIP-350 bech32m (only the
checksum constant differs: Marmot's ``marmot1`` invite codes), with 8-to-5 bit regrouping.

NIP-19 strings may exceed BIP-173's 90 characters (TLV entities with relays), so the
default length limit is the one rust-nostr applies to NIP-19 input.
"""

from __future__ import annotations

from nostr.errors import DecodeError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 5000
BECH32 = 1
BECH32M = 0x2BC830A3
_NAMES = {BECH32: "bech32", BECH32M: "bech32m"}


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


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (acc << (to_bits - bits)) & max_value:
        raise DecodeError("bech32 data has invalid padding")
    return out


def encode(hrp: str, data: bytes, *, constant: int = BECH32) -> str:
    """Encode ``data`` under the human-readable part ``hrp`` (lowercase); ``constant``
    picks the variant (`BECH32` or `BECH32M`)."""
    words = _convert_bits(data, 8, 5, pad=True)
    values = _hrp_expand(hrp) + words
    checksum = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ constant
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words)


def decode(text: str, *, max_length: int = MAX_LENGTH, constant: int = BECH32) -> tuple[str, bytes]:
    """Return ``(hrp, data)``; raise ``DecodeError`` on length, case, charset or checksum
    faults (a valid checksum of the other variant is named as such)."""
    name = _NAMES[constant]
    if len(text) > max_length:
        raise DecodeError(f"{name} string longer than {max_length} characters")
    if text.lower() != text and text.upper() != text:
        raise DecodeError(f"{name} string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise DecodeError(f"{name} string has no valid separator")
    hrp = text[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise DecodeError(f"{name} human-readable part has invalid characters")
    try:
        words = [_VALUES[c] for c in text[pos + 1 :]]
    except KeyError as exc:
        raise DecodeError(f"{name} data has an invalid character {exc.args[0]!r}") from None
    check = _polymod(_hrp_expand(hrp) + words)
    if check != constant:
        other = _NAMES.get(check)
        raise DecodeError(
            f"a {other} checksum, not {name}" if other else f"{name} checksum mismatch"
        )
    return hrp, bytes(_convert_bits(words[:-6], 5, 8, pad=False))


def decode_fixed(expected_hrp: str, text: str, length: int) -> bytes:
    """Decode a bare-key entity (``npub``, ``nsec``, ``note``) of an exact length."""
    hrp, data = decode(text)
    if hrp != expected_hrp:
        raise DecodeError(f"expected a {expected_hrp}, got {hrp}")
    if len(data) != length:
        raise DecodeError(f"{hrp} must carry {length} bytes, got {len(data)}")
    return data
