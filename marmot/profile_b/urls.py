"""The URL rules of Profile B's components, as MDK applies them with the WHATWG ``url`` crate.

Only what the components need: a relay URL (0x8004) must parse as ws/wss with a host, no
credentials and no fragment (not normalized: the reference keeps it as written); an avatar
(0x8007) or blob endpoint (0x8008 / 0x800b) URL must already be in normal form, which for
the ASCII URLs we accept means: lower-case scheme and host, no default port, a path of at
least ``/``. Non-ASCII hosts are refused rather than IDNA-mapped, a deliberate narrowing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = [
    "UrlError",
    "check_relay_url",
    "host_of",
    "is_ip_literal",
    "is_loopback_host",
    "is_public_ip",
    "normalize_http_url",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


class UrlError(ValueError):
    """A URL a component rule refuses."""


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str  # lower-cased
    host: str  # lower-cased, brackets kept for IPv6
    port: int | None
    path: str
    query: str | None


def _split(raw: str) -> _Parts:
    """scheme://host[:port][/path][?query], the subset of URLs the components take."""
    if not raw.isascii() or any(c.isspace() or ord(c) < 0x20 for c in raw):
        raise UrlError("URL must be printable ASCII without spaces")
    if "#" in raw:
        raise UrlError("URL must not include a fragment")
    scheme, sep, rest = raw.partition("://")
    if not sep or not scheme:
        raise UrlError("URL has no scheme")
    cut = min((i for i in (rest.find(c) for c in "/?") if i >= 0), default=len(rest))
    authority, tail = rest[:cut].lower(), rest[cut:]
    if "@" in authority:
        raise UrlError("URL must not include credentials")
    host, port_text = authority, ""
    if authority.rfind(":") > authority.rfind("]"):
        host, _, port_text = authority.rpartition(":")
    if not host or not _HOST.fullmatch(host):
        raise UrlError("URL must include a valid host")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 <= int(port_text) < 65536:
            raise UrlError("URL has an invalid port")
        port = int(port_text)
    path, qsep, query = tail.partition("?")
    return _Parts(scheme.lower(), host, port, path, query if qsep else None)


def check_relay_url(raw: str) -> None:
    """A Nostr relay URL as 0x8004 takes it (validated, not rewritten)."""
    parts = _split(raw)
    if parts.scheme not in ("ws", "wss"):
        raise UrlError("relay URL scheme must be wss or ws")


def normalize_http_url(raw: str, schemes: tuple[str, ...], *, query: bool = True) -> str:
    """The normal form of an http(s) URL, or ``UrlError``."""
    parts = _split(raw)
    if parts.scheme not in schemes:
        raise UrlError(f"URL scheme must be one of {', '.join(schemes)}")
    if not query and parts.query is not None:
        raise UrlError("URL must not include a query")
    port = "" if parts.port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{parts.port}"
    tail = "" if parts.query is None else f"?{parts.query}"
    return f"{parts.scheme}://{parts.host}{port}{parts.path or '/'}{tail}"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def is_ip_literal(host: str) -> bool:
    return _ip(host) is not None


def is_public_ip(host: str) -> bool:
    """True for a globally routable IP literal; False for any other IP literal."""
    ip = _ip(host)
    return ip is not None and ip.is_global


def host_of(url: str) -> str:
    try:
        return _split(url).host
    except UrlError:
        return ""
