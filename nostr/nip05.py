"""NIP-05: ``name@domain`` identifiers mapped to keys by ``https://domain/.well-known/nostr.json``.

Pure: building the URL and checking the document. Fetching is the caller's (over HTTPS,
without following redirects, as NIP-05 requires).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from nostr.errors import DecodeError
from nostr.relay_url import normalize_relay_url

_NAME = re.compile(r"[a-z0-9._-]+")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_DOCUMENT = 256 * 1024
"""A nostr.json larger than this is refused (big providers list many names)."""


@dataclass(frozen=True, slots=True)
class Identifier:
    name: str
    domain: str

    def __str__(self) -> str:
        return f"{self.name}@{self.domain}"

    @property
    def display(self) -> str:
        """``_@domain`` is shown as just the domain (NIP-05)."""
        return self.domain if self.name == "_" else str(self)

    @property
    def url(self) -> str:
        return f"https://{self.domain}/.well-known/nostr.json?name={self.name}"


@dataclass(frozen=True, slots=True)
class Resolved:
    pubkey: str
    relays: tuple[str, ...] = ()


def parse_identifier(text: str) -> Identifier:
    """``name@domain`` (case-insensitive; a bare ``domain`` means ``_@domain``)."""
    text = text.strip().lower()
    name, sep, domain = text.rpartition("@")
    if not sep:
        name, domain = "_", text
    if not _NAME.fullmatch(name) or not _DOMAIN.fullmatch(domain):
        raise DecodeError("not a name@domain address")
    return Identifier(name, domain)


def looks_like_identifier(text: str) -> bool:
    try:
        parse_identifier(text)
    except DecodeError:
        return False
    return "@" in text


def parse_document(body: bytes, identifier: Identifier) -> Resolved:
    """The key (and relay hints) ``body`` gives for ``identifier``; `DecodeError` if none."""
    if len(body) > MAX_DOCUMENT:
        raise DecodeError("nostr.json is too large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("nostr.json is not JSON") from exc
    names = data.get("names") if isinstance(data, dict) else None
    pubkey = names.get(identifier.name) if isinstance(names, dict) else None
    if not isinstance(pubkey, str) or not _HEX64.fullmatch(pubkey):
        raise DecodeError(f"{identifier.display} names no key")
    relays = data.get("relays")
    hints = relays.get(pubkey) if isinstance(relays, dict) else None
    return Resolved(pubkey, _relay_hints(hints))


def _relay_hints(hints: object) -> tuple[str, ...]:
    if not isinstance(hints, list):
        return ()
    out: dict[str, None] = {}
    for hint in hints[:10]:
        if isinstance(hint, str):
            try:
                out[normalize_relay_url(hint)] = None
            except DecodeError:
                continue
    return tuple(out)
