"""The notification server against the real relay: in-process, and as its own process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from marmot.push import TOKENS_PER_64K_WRAP, TokenTag, build_notification_batches, decrypt_token
from nostr.event import Event
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.kinds import Kind
from nostr.relay import PoolOptions, RelayPool
from nostr.relay_lists import parse_relay_tags
from nostr.signer import KeySigner
from push_server import FileLogBackend, Notification, NotificationServer, ServerConfig
from tests.helpers.nostr_factories import secret
from tests.helpers.push_factories import apns, encrypted, fcm, trigger
from tests.helpers.push_server_process import PushServerProcess
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

ROOT = Path(__file__).resolve().parents[2]
SERVER = secret("integration push server")
PUB = SERVER.public_key()
ALICE, CAROL = fcm("alice-fcm-token"), apns(b"\xca" * 32)


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _wait_lines(path: Path, count: int, timeout: float = 10) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _lines(path)
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    return _lines(path)


async def _publish(url: str, *events: Event) -> None:
    """Publish as an unrelated client (which also AUTHs when the relay asks)."""
    async with RelayPool(signer=KeySigner(SecretKey.generate())) as pool:
        await pool.add_relay(url)
        for event in events:
            (await pool.publish(event)).raise_for_failure()


async def test_server_on_an_auth_relay(auth_relay: RelayProcess, tmp_path: Path) -> None:
    """AUTH, the 10050, once-only delivery, bad tokens skipped, dedupe of re-sent wraps."""
    log_file = tmp_path / "pushes.jsonl"
    config = ServerConfig(SERVER, (auth_relay.url,), log_file=log_file)
    server = NotificationServer(config, FileLogBackend(log_file), options=PoolOptions())
    await server.start()
    try:
        async with RelayPool(signer=KeySigner(secret("reader"))) as reader:
            await reader.add_relay(auth_relay.url)
            lists = await reader.fetch([Filter(authors={PUB.hex}, kinds={Kind.INBOX_RELAYS})])
        assert [parse_relay_tags(e) for e in lists] == [(auth_relay.url,)]

        now = int(time.time())
        first = trigger(PUB, encrypted(PUB, [ALICE, CAROL]), now=now)
        broken = bytearray(encrypted(PUB, [CAROL])[0])
        broken[50] ^= 0xFF
        second = trigger(PUB, [*encrypted(PUB, [ALICE]), bytes(broken)], now=now)
        await _publish(auth_relay.url, first, first, second)
        lines = await _wait_lines(log_file, 3)
        await asyncio.sleep(0.3)  # nothing more may arrive
        lines = _lines(log_file)
        tokens = sorted(str(line["token"]) for line in lines)
        assert tokens == sorted(["alice-fcm-token", "ca" * 32, "alice-fcm-token"])
        assert len({line["trigger"] for line in lines}) == 2
        assert server.stats.invalid_tokens == 1
        assert server.stats.delivered == 3
    finally:
        await server.close()


async def test_client_batches_reach_the_server(relay: RelayProcess, tmp_path: Path) -> None:
    """What the app sends (marmot.push batches, 19 per chunk) arrives whole."""
    log_file = tmp_path / "pushes.jsonl"
    config = ServerConfig(SERVER, (relay.url,), log_file=log_file)
    server = NotificationServer(config, FileLogBackend(log_file))
    await server.start()
    try:
        devices = [fcm(f"device-{i:02d}") for i in range(40)]
        tags = [TokenTag(t, PUB, relay.url) for t in encrypted(PUB, devices)]
        assert decrypt_token(SERVER, tags[0].encrypted_token) == devices[0]
        batches = build_notification_batches(
            tags, now=int(time.time()), max_tokens=TOKENS_PER_64K_WRAP
        )
        assert [len(b.events) for b in batches] == [3]
        await _publish(relay.url, *batches[0].events)
        lines = await _wait_lines(log_file, 40)
        assert sorted(str(line["token"]) for line in lines) == [
            f"device-{i:02d}" for i in range(40)
        ]
    finally:
        await server.close()


async def test_server_process_and_restart(relay: RelayProcess, tmp_path: Path) -> None:
    """``python -m push_server``: ready line, delivery, clean SIGTERM, and no second push
    for the same stored trigger after a restart (the state file)."""
    server = PushServerProcess(tmp_path, relay.url, secret=SERVER).start()
    try:
        await _publish(relay.url, trigger(PUB, encrypted(PUB, [ALICE]), now=int(time.time())))
        assert len(server.wait_lines(1)) == 1
    finally:
        assert server.stop() == 0
    server.start()  # the relay replays the stored wrap on subscribe
    try:
        await _publish(relay.url, trigger(PUB, encrypted(PUB, [CAROL]), now=int(time.time())))
        server.wait_lines(2)
        await asyncio.sleep(0.3)
        assert [line["token"] for line in server.lines()] == ["alice-fcm-token", "ca" * 32]
    finally:
        assert server.stop() == 0


class _FlakyBackend:
    """Fails on its first delivery, then records."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens: list[bytes] = []

    async def deliver(self, notifications: Sequence[Notification]) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("gateway down")
        self.tokens += [n.device_token for n in notifications]
        return len(notifications)

    async def aclose(self) -> None:
        return None


async def test_a_failing_backend_is_counted_and_the_server_goes_on(
    relay: RelayProcess, tmp_path: Path
) -> None:
    backend = _FlakyBackend()
    config = ServerConfig(SERVER, (relay.url,), log_file=tmp_path / "unused")
    server = NotificationServer(config, backend)
    await server.start()
    try:
        now = int(time.time())
        await _publish(relay.url, trigger(PUB, encrypted(PUB, [ALICE, CAROL]), now=now))
        await _publish(relay.url, trigger(PUB, encrypted(PUB, [ALICE]), now=now))
        async with asyncio.timeout(10):
            while backend.calls < 2:
                await asyncio.sleep(0.02)
        # Whichever trigger came first hit the outage; the other was delivered.
        assert server.stats.delivered == len(backend.tokens) in (1, 2)
        assert server.stats.delivery_failures + server.stats.delivered == 3
    finally:
        await server.close()
