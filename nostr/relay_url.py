"""Relay URL checks and the normal form used as a relay's identity.

Like rust-nostr's ``RelayUrl``: only ``ws``/``wss``; scheme and host are lowercased and a
default port (80 for ws, 443 for wss) is dropped; the path is kept as written.
"""

from __future__ import annotations

import re

from nostr.errors import DecodeError

_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")
_DEFAULT_PORT = {"ws": 80, "wss": 443}
MAX_URL = 2048


def normalize_relay_url(url: str) -> str:
    """Return the normal form of a relay URL or raise ``DecodeError``."""
    if type(url) is not str or not url.isascii() or len(url) > MAX_URL:
        raise DecodeError("a relay URL must be an ASCII string")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise DecodeError("a relay URL must not contain whitespace")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORT:
        raise DecodeError(f"relay URL must start with ws:// or wss://: {url!r}")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut].lower(), rest[cut:]
    if "@" in authority:
        raise DecodeError("relay URL must not carry credentials")
    host, port = authority, ""
    if authority.rfind(":") > authority.rfind("]"):
        host, _, port = authority.rpartition(":")
    if not _HOST.fullmatch(host):
        raise DecodeError(f"relay URL has an invalid host: {url!r}")
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise DecodeError(f"relay URL has an invalid port: {url!r}")
        port = "" if int(port) == _DEFAULT_PORT[scheme] else f":{int(port)}"
    return f"{scheme}://{host}{port}{tail}"


def is_relay_url(url: str) -> bool:
    try:
        normalize_relay_url(url)
    except DecodeError:
        return False
    return True
