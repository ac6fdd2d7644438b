"""The URL rules of Profile B's components, as MDK applies them with the WHATWG ``url`` crate.

Only what the components need: a relay URL (0x8004) must parse as ws/wss with a host, no
credentials and no fragment (not normalized: the reference keeps it as written); an avatar
(0x8007) or blob endpoint (0x8008 / 0x800b) URL must already be in normal form, which for
the ASCII URLs we accept means: lower-case scheme and host, no default port, a path of at
least ``/``. Non-ASCII hosts are refused rather than IDNA-mapped, a deliberate narrowing.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

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


class UrlError(ValueError):
    """A URL a component rule refuses."""


def _split(raw: str) -> SplitResult:
    if not raw.isascii() or any(c.isspace() or ord(c) < 0x20 for c in raw):
        raise UrlError("URL must be printable ASCII without spaces")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise UrlError(f"URL does not parse: {exc}") from None
    if "@" in parts.netloc:
        raise UrlError("URL must not include credentials")
    if "#" in raw:
        raise UrlError("URL must not include a fragment")
    if not parts.hostname:
        raise UrlError("URL must include a host")
    return parts


def check_relay_url(raw: str) -> None:
    """A Nostr relay URL as 0x8004 takes it (validated, not rewritten)."""
    parts = _split(raw)
    if parts.scheme.lower() not in ("ws", "wss"):
        raise UrlError("relay URL scheme must be wss or ws")


def normalize_http_url(raw: str, schemes: tuple[str, ...], *, query: bool = True) -> str:
    """The normal form of an http(s) URL, or ``UrlError``."""
    parts = _split(raw)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise UrlError(f"URL scheme must be one of {', '.join(schemes)}")
    if not query and parts.query:
        raise UrlError("URL must not include a query")
    host = parts.netloc.lower()
    port = parts.port
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        host = host.rsplit(":", 1)[0]
    path = parts.path or "/"
    tail = f"?{parts.query}" if parts.query or raw.endswith("?") else ""
    return f"{scheme}://{host}{path}{tail}"


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
    return urlsplit(url).hostname or ""
