"""Delivery backends: where a decrypted ``(platform, device token)`` goes.

Both backends write the same JSON object per device::

    {"platform": "apns" | "fcm", "token": "...", "token_encoding": "hex" | "utf-8" | "base64",
     "trigger": "<446 rumor id>", "received_at": <unix seconds>, "relay": "wss://..."}

APNs tokens are written as hex and FCM tokens as their UTF-8 text (White Noise's
registration convention), base64 when an FCM token is not valid UTF-8.

``FileLogBackend`` appends JSON lines to a file (the audit trail, and what the tests read);
``WebhookBackend`` POSTs each object to a URL (a gateway that talks to APNs/FCM) with the
standard library's ``urllib`` in worker threads, a timeout per request, and retries with
backoff on network errors, 429 and 5xx (never on other 4xx: resending cannot fix them).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from marmot.push import Platform
from push_server.processor import Notification

log = logging.getLogger(__name__)


class DeliveryBackend(Protocol):
    async def deliver(self, notifications: Sequence[Notification]) -> int:
        """Hand over every notification; returns how many were delivered."""
        ...

    async def aclose(self) -> None: ...


def notification_json(note: Notification) -> dict[str, Any]:
    token, encoding = _token_text(note)
    return {
        "platform": "apns" if note.platform == Platform.APNS else "fcm",
        "token": token,
        "token_encoding": encoding,
        "trigger": note.trigger_id,
        "received_at": note.received_at,
        "relay": note.relay_url,
    }


def _token_text(note: Notification) -> tuple[str, str]:
    if note.platform == Platform.APNS:
        return note.device_token.hex(), "hex"
    try:
        return note.device_token.decode(), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(note.device_token).decode(), "base64"


class FileLogBackend:
    """Appends one JSON line per device to ``path`` (flushed per trigger)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    async def deliver(self, notifications: Sequence[Notification]) -> int:
        lines = "".join(
            json.dumps(notification_json(n), separators=(",", ":")) + "\n" for n in notifications
        )
        self._file.write(lines)
        self._file.flush()
        return len(notifications)

    async def aclose(self) -> None:
        self._file.close()


_FAILURES = (OSError, http.client.HTTPException)  # URLError, HTTPError, timeouts, bad replies


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 429 or exc.code >= 500
    return True


class WebhookBackend:
    """POSTs each notification as JSON to ``url``; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 8,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must be http:// or https://")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._slots = asyncio.Semaphore(concurrency)

    async def deliver(self, notifications: Sequence[Notification]) -> int:
        results = await asyncio.gather(*(self._deliver_one(n) for n in notifications))
        return sum(results)

    async def _deliver_one(self, note: Notification) -> bool:
        body = json.dumps(notification_json(note)).encode()
        async with self._slots:
            for attempt in range(self.retries + 1):
                try:
                    await asyncio.to_thread(self._post, body)
                    return True
                except _FAILURES as exc:
                    if not _retryable(exc) or attempt == self.retries:
                        log.warning("webhook gave up on trigger %s: %s", note.trigger_id, exc)
                        return False
                    await asyncio.sleep(self.backoff * 2**attempt)
        return False

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url, data=body, headers=self._headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            response.read()

    async def aclose(self) -> None:
        return None
