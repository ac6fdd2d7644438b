"""BIP-173 bech32 (the original checksum, as NIP-19 uses), with 8-to-5 bit regrouping.

NIP-19 strings may exceed BIP-173's 90 characters (TLV entities with relays), so the
length limit here is the one rust-nostr applies to NIP-19 input.
"""

from __future__ import annotations

from nostr.errors import DecodeError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 5000


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


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable part ``hrp`` (lowercase)."""
    words = _convert_bits(data, 8, 5, pad=True)
    values = _hrp_expand(hrp) + words
    checksum = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words)


def decode(text: str) -> tuple[str, bytes]:
    """Return ``(hrp, data)``; raise ``DecodeError`` on case, charset or checksum faults."""
    if len(text) > MAX_LENGTH:
        raise DecodeError("bech32 string too long")
    if text.lower() != text and text.upper() != text:
        raise DecodeError("bech32 string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise DecodeError("bech32 string has no valid separator")
    hrp = text[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise DecodeError("bech32 human-readable part has invalid characters")
    try:
        words = [_VALUES[c] for c in text[pos + 1 :]]
    except KeyError as exc:
        raise DecodeError(f"bech32 data has an invalid character {exc.args[0]!r}") from None
    if _polymod(_hrp_expand(hrp) + words) != 1:
        raise DecodeError("bech32 checksum mismatch")
    return hrp, bytes(_convert_bits(words[:-6], 5, 8, pad=False))


def decode_fixed(expected_hrp: str, text: str, length: int) -> bytes:
    """Decode a bare-key entity (``npub``, ``nsec``, ``note``) of an exact length."""
    hrp, data = decode(text)
    if hrp != expected_hrp:
        raise DecodeError(f"expected a {expected_hrp}, got {hrp}")
    if len(data) != length:
        raise DecodeError(f"{hrp} must carry {length} bytes, got {len(data)}")
    return data
