"""The loopback guard: under ``BURROW_LOOPBACK_ONLY=1`` (the test suite sets it) nothing
dials an address off this machine, so a forgotten default can never reach a public relay
or web server from a test. Only literal loopback hosts pass: no name is resolved."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

LOOPBACK_ENV = "BURROW_LOOPBACK_ONLY"


def loopback_only() -> bool:
    """Whether this process may dial loopback addresses only."""
    return os.environ.get(LOOPBACK_ENV, "") == "1"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host is not None and is_loopback_host(host)


def refusal(url: str) -> str | None:
    """Why ``url`` may not be dialled here, or None."""
    if loopback_only() and not is_loopback_url(url):
        return f"refused {url}: {LOOPBACK_ENV}=1 allows addresses on this machine only"
    return None
