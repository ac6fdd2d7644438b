"""Delivery backends: the JSON lines file and the webhook (against a real local HTTP server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from marmot.push import Platform
from push_server.backends import FileLogBackend, WebhookBackend, notification_json
from push_server.processor import Notification

RELAY = "ws://127.0.0.1:7777"
FCM = Notification(Platform.FCM, b"fcm:token-1", "aa" * 32, 1_750_000_000, RELAY)
APNS = Notification(Platform.APNS, b"\x01\xab" * 16, "bb" * 32, 1_750_000_001, RELAY)
BINARY_FCM = Notification(Platform.FCM, b"\xff\xfe", "cc" * 32, 1_750_000_002, RELAY)


def test_json_shape_per_platform() -> None:
    assert notification_json(FCM) == {
        "platform": "fcm",
        "token": "fcm:token-1",
        "token_encoding": "utf-8",
        "trigger": "aa" * 32,
        "received_at": 1_750_000_000,
        "relay": RELAY,
    }
    assert notification_json(APNS)["token"] == "01ab" * 16
    assert notification_json(APNS)["token_encoding"] == "hex"
    assert notification_json(BINARY_FCM)["token"] == "//4="
    assert notification_json(BINARY_FCM)["token_encoding"] == "base64"


@pytest.mark.asyncio
async def test_file_backend_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "pushes.jsonl"
    backend = FileLogBackend(path)
    assert await backend.deliver([FCM, APNS]) == 2
    assert await backend.deliver([BINARY_FCM]) == 1
    await backend.aclose()
    again = FileLogBackend(path)  # a restart appends, never truncates
    await again.deliver([FCM])
    await again.aclose()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["trigger"] for line in lines] == ["aa" * 32, "bb" * 32, "cc" * 32, "aa" * 32]


class _Hook:
    """A local HTTP server answering with scripted status codes (then 200)."""

    def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
        self.statuses = statuses
        self.delay = delay
        self.bodies: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.headers.append(dict(self.headers))
                time.sleep(hook.delay)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory() -> Iterator[type[_Hook]]:
    made: list[_Hook] = []

    class Factory(_Hook):
        def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
            super().__init__(statuses, delay)
            made.append(self)

    yield Factory
    for hook in made:
        hook.close()


@pytest.mark.asyncio
async def test_webhook_posts_one_json_body_per_device(hook_factory: type[_Hook]) -> None:
    hook = hook_factory([])
    backend = WebhookBackend(hook.url, headers={"Authorization": "Bearer s3cret"})
    assert await backend.deliver([FCM, APNS]) == 2
    assert sorted(b["token"] for b in hook.bodies) == sorted(["fcm:token-1", "01ab" * 16])
    assert {h["Authorization"] for h in hook.headers} == {"Bearer s3cret"}
    assert {h["Content-Type"] for h in hook.headers} == {"application/json"}


@pytest.mark.asyncio
async def test_webhook_retries_server_errors_and_rate_limits(hook_factory: type[_Hook]) -> None:
    hook = hook_factory([503, 429])
    backend = WebhookBackend(hook.url, retries=2, backoff=0.01)
    assert await backend.deliver([FCM]) == 1
    assert len(hook.bodies) == 3


@pytest.mark.asyncio
async def test_webhook_gives_up_after_the_retries(hook_factory: type[_Hook]) -> None:
    hook = hook_factory([500, 500, 500])
    backend = WebhookBackend(hook.url, retries=2, backoff=0.01)
    assert await backend.deliver([FCM]) == 0
    assert len(hook.bodies) == 3


@pytest.mark.asyncio
async def test_webhook_does_not_retry_a_client_error(hook_factory: type[_Hook]) -> None:
    hook = hook_factory([400])
    backend = WebhookBackend(hook.url, retries=3, backoff=0.01)
    assert await backend.deliver([FCM, APNS]) == 1  # the second request got a 200
    assert len(hook.bodies) == 2


@pytest.mark.asyncio
async def test_webhook_timeout_counts_as_a_failure(hook_factory: type[_Hook]) -> None:
    hook = hook_factory([], delay=0.5)
    backend = WebhookBackend(hook.url, timeout=0.1, retries=1, backoff=0.01)
    assert await backend.deliver([FCM]) == 0
    assert len(hook.bodies) == 2


@pytest.mark.asyncio
async def test_webhook_unreachable_is_a_failure_not_a_crash() -> None:
    hook = _Hook([])
    url = hook.url
    hook.close()  # nothing listens on that port any more
    backend = WebhookBackend(url, retries=1, backoff=0.01, timeout=1)
    assert await backend.deliver([FCM]) == 0


def test_webhook_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookBackend("file:///etc/passwd")
