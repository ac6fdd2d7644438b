"""Blossom (BUD-01/02/03), the pure part: server URLs, kind 24242 authorizations, blob
descriptors and the user's server list (kind 10063). The HTTP client is
``nostr.relay.blossom``.

A blob is named by the SHA-256 of its bytes; a server serves it at ``<server>/<sha256>``
(an extension may follow). Every write is authorized by a signed kind 24242 event with a
``t`` verb, an ``expiration`` and the ``x`` hashes it covers, sent base64-encoded in
``Authorization: Nostr <base64>``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nostr.errors import DecodeError, NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, hex_of
from nostr.kinds import Kind

AUTH_LIFETIME = 300
"""Seconds an authorization stays valid (BUD-01 asks for a short expiration)."""
VERBS = frozenset({"get", "upload", "list", "delete", "media"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PATH_HASH = re.compile(r"/([0-9a-f]{64})(?:\.[A-Za-z0-9]{1,10})?$")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")
MAX_URL = 2048


def normalize_server_url(url: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash, scheme and host lowered;
    ``DecodeError`` for anything else (credentials, whitespace, other schemes)."""
    if type(url) is not str or not url.isascii() or len(url) > MAX_URL:
        raise DecodeError("a Blossom server URL must be an ASCII string")
    if any(c.isspace() or ord(c) < 0x20 for c in url) or "?" in url or "#" in url:
        raise DecodeError("a Blossom server URL must not contain whitespace, query or fragment")
    scheme, sep, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise DecodeError(f"Blossom server URL must start with http:// or https://: {url!r}")
    authority, slash, path = rest.partition("/")
    authority = authority.lower()
    host, port = authority, ""
    if "@" in authority:
        raise DecodeError("Blossom server URL must not carry credentials")
    if authority.rfind(":") > authority.rfind("]"):
        host, _, port = authority.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise DecodeError(f"Blossom server URL has an invalid port: {url!r}")
        port = f":{int(port)}"
    if not _HOST.fullmatch(host):
        raise DecodeError(f"Blossom server URL has an invalid host: {url!r}")
    tail = ("/" + path).rstrip("/") if slash else ""
    return f"{scheme}://{host}{port}{tail}"


def blob_url(server: str, sha256: str) -> str:
    return f"{normalize_server_url(server)}/{sha256}"


def hash_of_url(url: str) -> str | None:
    """The SHA-256 a blob URL names (its last path segment, extension dropped), if any."""
    match = _PATH_HASH.search(url.split("?", 1)[0].split("#", 1)[0])
    return match[1] if match else None


def server_of_url(url: str) -> str | None:
    """The server part of a blob URL (``https://host/abc…`` → ``https://host``)."""
    match = _PATH_HASH.search(url)
    if match is None:
        return None
    try:
        return normalize_server_url(url[: match.start()] or url)
    except DecodeError:
        return None


def authorization(
    pubkey: PublicKey | str,
    verb: str,
    *,
    created_at: int,
    hashes: Iterable[str] = (),
    content: str = "",
    lifetime: int = AUTH_LIFETIME,
    server: str | None = None,
) -> UnsignedEvent:
    """The kind 24242 event authorizing ``verb`` on the blobs ``hashes`` (BUD-01)."""
    if verb not in VERBS:
        raise ValueError(f"unknown Blossom verb {verb!r}")
    tags: list[tuple[str, ...]] = [("t", verb)]
    for sha in hashes:
        if not _SHA256.fullmatch(sha):
            raise ValueError("a Blossom hash is 64 lower-case hex digits")
        tags.append(("x", sha))
    if server is not None:
        tags.append(("server", normalize_server_url(server)))
    tags.append(("expiration", str(created_at + lifetime)))
    text = content or f"{verb.capitalize()} blob"
    return UnsignedEvent.create(hex_of(pubkey), created_at, Kind.BLOSSOM_AUTH, text, tags)


def authorization_header(event: Event) -> str:
    """``Nostr <base64 of the event JSON>``."""
    return "Nostr " + base64.b64encode(event.to_json().encode()).decode()


@dataclass(frozen=True, slots=True)
class BlobDescriptor:
    """What a server says about a stored blob (BUD-02)."""

    url: str
    sha256: str
    size: int
    type: str = "application/octet-stream"
    uploaded: int = 0

    @classmethod
    def from_json(cls, data: Any) -> BlobDescriptor:
        if not isinstance(data, Mapping):
            raise DecodeError("a blob descriptor is a JSON object")
        url, sha, size = data.get("url"), data.get("sha256"), data.get("size")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise DecodeError("blob descriptor has no http(s) url")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise DecodeError("blob descriptor has no valid sha256")
        if type(size) is not int or size < 0:
            raise DecodeError("blob descriptor has no valid size")
        kind = data.get("type")
        uploaded = data.get("uploaded")
        return cls(
            url,
            sha,
            size,
            kind if isinstance(kind, str) and kind else "application/octet-stream",
            uploaded if type(uploaded) is int else 0,
        )


def server_list_event(
    pubkey: PublicKey | str, servers: Iterable[str], *, created_at: int
) -> UnsignedEvent:
    """Kind 10063 (BUD-03): the user's Blossom servers, most preferred first."""
    unique = dict.fromkeys(normalize_server_url(s) for s in servers)
    tags = tuple(("server", url) for url in unique)
    return UnsignedEvent(hex_of(pubkey), created_at, Kind.BLOSSOM_SERVERS, tags, "")


def parse_server_list(event: Event | UnsignedEvent) -> tuple[str, ...]:
    """The servers of a kind 10063 event in the author's order (bad URLs skipped)."""
    if event.kind != Kind.BLOSSOM_SERVERS:
        raise DecodeError(f"kind {event.kind} is not a Blossom server list")
    found: dict[str, None] = {}
    for tag in event.tags:
        if len(tag) >= 2 and tag[0] == "server":
            try:
                found.setdefault(normalize_server_url(tag[1]))
            except DecodeError:
                continue
    return tuple(found)


def check_authorization(header: str, verb: str, sha256: str | None, *, now: int) -> Event:
    """The kind 24242 event of an ``Authorization: Nostr <base64>`` header, verified for
    ``verb`` on ``sha256`` at ``now`` (a server's side of BUD-01); `DecodeError` otherwise."""
    scheme, _, token = header.strip().partition(" ")
    if scheme != "Nostr" or not token:
        raise DecodeError("missing Nostr authorization")
    try:
        event = Event.from_json(_unbase64(token.strip()))
        event.verify()
    except (ValueError, NostrError) as exc:
        raise DecodeError(f"bad authorization: {exc}") from None
    if event.kind != Kind.BLOSSOM_AUTH:
        raise DecodeError("authorization must be kind 24242")
    if event.created_at > now + 60:
        raise DecodeError("authorization is from the future")
    expiration = event.first_tag_value("expiration") or ""
    if not expiration.isdigit() or int(expiration) <= now:
        raise DecodeError("authorization expired")
    if verb not in event.tag_values("t"):
        raise DecodeError(f"authorization is not for {verb}")
    if sha256 is not None and sha256 not in event.tag_values("x"):
        raise DecodeError("authorization does not cover this blob")
    return event


def _unbase64(token: str) -> bytes:
    """Standard or URL-safe base64, padded or not (blossom-rs sends it unpadded)."""
    padded = token + "=" * (-len(token) % 4)
    if "-" in token or "_" in token:
        return base64.urlsafe_b64decode(padded)
    return base64.b64decode(padded, validate=True)
