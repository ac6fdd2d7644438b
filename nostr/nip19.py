"""NIP-19 bech32 entities: npub, nsec, note (bare) and nprofile, nevent, naddr (TLV).

TLV types: 0 special (pubkey, event id or ``d`` identifier), 1 relay (ASCII), 2 author
(32 bytes), 3 kind (u32 big-endian). Unknown TLV types are ignored, as NIP-19 requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nostr import bech32
from nostr.errors import DecodeError
from nostr.keys import PublicKey, SecretKey

_SPECIAL, _RELAY, _AUTHOR, _KIND = 0, 1, 2, 3
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Profile:
    """``nprofile``: a public key with relay hints."""

    public_key: PublicKey
    relays: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventPointer:
    """``nevent``: an event id with optional relays, author and kind."""

    event_id: str
    relays: tuple[str, ...] = ()
    author: PublicKey | None = None
    kind: int | None = None


@dataclass(frozen=True, slots=True)
class AddressPointer:
    """``naddr``: an addressable event ``kind:author:identifier`` with relay hints."""

    identifier: str
    author: PublicKey
    kind: int
    relays: tuple[str, ...] = ()


Entity = PublicKey | SecretKey | str | Profile | EventPointer | AddressPointer


def _tlv(type_: int, value: bytes) -> bytes:
    if len(value) > 255:
        raise DecodeError("a NIP-19 TLV value is at most 255 bytes")
    return bytes([type_, len(value)]) + value


def _parse_tlv(data: bytes) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise DecodeError("truncated NIP-19 TLV header")
        type_, length = data[pos], data[pos + 1]
        value = data[pos + 2 : pos + 2 + length]
        if len(value) != length:
            raise DecodeError("truncated NIP-19 TLV value")
        out.setdefault(type_, []).append(value)
        pos += 2 + length
    return out


def _one(tlv: dict[int, list[bytes]], type_: int, size: int | None, what: str) -> bytes:
    values = tlv.get(type_)
    if not values:
        raise DecodeError(f"NIP-19 entity lacks its {what}")
    if size is not None and len(values[0]) != size:
        raise DecodeError(f"NIP-19 {what} must be {size} bytes")
    return values[0]


def _relays(tlv: dict[int, list[bytes]]) -> tuple[str, ...]:
    try:
        return tuple(v.decode("ascii") for v in tlv.get(_RELAY, []))
    except UnicodeDecodeError:
        raise DecodeError("NIP-19 relay must be ASCII") from None


def _optional_author(tlv: dict[int, list[bytes]]) -> PublicKey | None:
    return PublicKey(_one(tlv, _AUTHOR, 32, "author")) if _AUTHOR in tlv else None


def _optional_kind(tlv: dict[int, list[bytes]]) -> int | None:
    return int.from_bytes(_one(tlv, _KIND, 4, "kind"), "big") if _KIND in tlv else None


def _event_id_bytes(event_id: str) -> bytes:
    if not _HEX64.fullmatch(event_id):
        raise DecodeError("an event id must be 64 lowercase hex characters")
    return bytes.fromhex(event_id)


def encode_note(event_id: str) -> str:
    return bech32.encode("note", _event_id_bytes(event_id))


def encode_profile(profile: Profile) -> str:
    body = _tlv(_SPECIAL, profile.public_key.data)
    body += b"".join(_tlv(_RELAY, r.encode("ascii")) for r in profile.relays)
    return bech32.encode("nprofile", body)


def encode_event(pointer: EventPointer) -> str:
    body = _tlv(_SPECIAL, _event_id_bytes(pointer.event_id))
    if pointer.author is not None:
        body += _tlv(_AUTHOR, pointer.author.data)
    if pointer.kind is not None:
        body += _tlv(_KIND, pointer.kind.to_bytes(4, "big"))
    body += b"".join(_tlv(_RELAY, r.encode("ascii")) for r in pointer.relays)
    return bech32.encode("nevent", body)


def encode_address(pointer: AddressPointer) -> str:
    body = _tlv(_SPECIAL, pointer.identifier.encode())
    body += _tlv(_AUTHOR, pointer.author.data)
    body += _tlv(_KIND, pointer.kind.to_bytes(4, "big"))
    body += b"".join(_tlv(_RELAY, r.encode("ascii")) for r in pointer.relays)
    return bech32.encode("naddr", body)


def _decode_tlv_entity(hrp: str, tlv: dict[int, list[bytes]]) -> Entity:
    if hrp == "nprofile":
        return Profile(PublicKey(_one(tlv, _SPECIAL, 32, "public key")), _relays(tlv))
    if hrp == "nevent":
        return EventPointer(
            _one(tlv, _SPECIAL, 32, "event id").hex(),
            _relays(tlv),
            _optional_author(tlv),
            _optional_kind(tlv),
        )
    try:
        identifier = _one(tlv, _SPECIAL, None, "identifier").decode()
    except UnicodeDecodeError:
        raise DecodeError("naddr identifier must be UTF-8") from None
    kind = _optional_kind(tlv)
    author = _optional_author(tlv)
    if kind is None or author is None:
        raise DecodeError("naddr needs an author and a kind")
    return AddressPointer(identifier, author, kind, _relays(tlv))


def decode(text: str) -> Entity:
    """Decode any NIP-19 entity; a bare ``note`` decodes to its hex event id."""
    hrp, data = bech32.decode(text)
    if hrp in ("npub", "nsec", "note"):
        if len(data) != 32:
            raise DecodeError(f"{hrp} must carry 32 bytes, got {len(data)}")
        if hrp == "npub":
            return PublicKey(data)
        return SecretKey(data) if hrp == "nsec" else data.hex()
    if hrp in ("nprofile", "nevent", "naddr"):
        return _decode_tlv_entity(hrp, _parse_tlv(data))
    raise DecodeError(f"unknown NIP-19 prefix {hrp!r}")
