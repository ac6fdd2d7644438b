"""Issue 9 end to end: three CLI users, the real relay, ``python -m push_server`` running.

A, B and C each register a device token and share one group. When B sends, the server
delivers A's and C's tokens, never B's, exactly once per message; after A is removed,
B's next message wakes C only; and no token is ever on the relay in the clear (every
stored event is checked for each token as text, hex and base64 at every alignment).
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from nostr.filters import Filter
from nostr.relay import RelayPool
from tests.e2e.cli_client import CliClient, parallel, until
from tests.e2e.conftest import People
from tests.helpers.push_server_process import PushServerProcess
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.e2e, pytest.mark.push]

TOKENS = {
    "alice": ("fcm", "fcm:alice-device-token-0123456789"),
    "bob": ("apns", "b0b0" + "5e" * 30),
    "carol": ("fcm", "fcm:carol-device-token-9876543210"),
}
QUIET = 1.5
"""Seconds to keep watching for a delivery that must not come."""


def _delivered_form(name: str) -> str:
    """How the server's log writes a token (APNs hex, FCM text)."""
    return TOKENS[name][1]


def _raw(name: str) -> bytes:
    platform, token = TOKENS[name]
    return bytes.fromhex(token) if platform == "apns" else token.encode()


def clear_forms(token: bytes) -> list[str]:
    """The token as it could show in an event if it leaked: its text, hex, and base64
    at each of the three byte alignments (only the characters no neighbour affects)."""
    forms = [token.hex(), token.hex().upper()]
    if token.isascii():
        forms.append(token.decode())
    n = len(token)
    for offset in range(3):
        encoded = base64.b64encode(b"\x00" * offset + token).decode()
        first, last = -(-8 * offset // 6), (8 * (offset + n)) // 6
        forms.append(encoded[first:last])
    return forms


def _register(client: CliClient, server: PushServerProcess, relay_url: str) -> None:
    platform, token = TOKENS[client.name]
    out = client.run(
        "push", "register", "--platform", platform, "--token", token,
        "--server", server.npub, "--relay", relay_url,
    )  # fmt: skip
    assert out["push"]["registration"]["shareable"] is True


def _member_tokens(client: CliClient, group_id: str) -> int:
    groups = client.run("push", "show", sync=True)["push"]["groups"]
    return int(next(g["member_tokens"] for g in groups if g["group_id"] == group_id))


def _send(client: CliClient, group_id: str, text: str) -> None:
    assert client.run("send", group_id, text)["message"]["status"] == "sent"


def _deliveries(server: PushServerProcess, count: int) -> list[dict[str, object]]:
    """Exactly ``count`` deliveries: wait for them, then make sure no more come."""
    server.wait_lines(count)
    time.sleep(QUIET)
    lines = server.lines()
    assert len(lines) == count, lines
    return lines


async def _relay_events(url: str) -> list[str]:
    async with RelayPool() as pool:
        await pool.add_relay(url)
        return [event.to_json() for event in await pool.fetch([Filter()], timeout=20)]


@pytest.mark.asyncio
async def test_push_end_to_end(relay: RelayProcess, people: People, tmp_path: Path) -> None:
    server = PushServerProcess(tmp_path / "push-server", relay.url).start()
    try:
        alice, bob, carol = people(relay, "alice", "bob", "carol")
        parallel(*(lambda c=c: _register(c, server, relay.url) for c in (alice, bob, carol)))
        created = alice.run(
            "group", "create", "Push team", "--member", bob.npub, "--member", carol.npub
        )["group"]
        gid = created["id"]
        parallel(lambda: bob.accept_invite(gid), lambda: carol.accept_invite(gid))
        until(lambda: _member_tokens(bob, gid), lambda n: n == 2)

        _send(bob, gid, "first")
        first = _deliveries(server, 2)
        assert sorted(line["token"] for line in first) == sorted(
            [_delivered_form("alice"), _delivered_form("carol")]
        )
        assert len({line["trigger"] for line in first}) == 1

        _send(bob, gid, "second")
        second = _deliveries(server, 4)[2:]
        assert sorted(line["token"] for line in second) == sorted(
            [_delivered_form("alice"), _delivered_form("carol")]
        )
        assert {line["trigger"] for line in second}.isdisjoint({first[0]["trigger"]})

        alice.run("group", "promote", gid, bob.npub)
        bob.run("group", "remove", gid, alice.npub, sync=True)
        _send(bob, gid, "alice is gone")
        third = _deliveries(server, 5)[4:]
        assert [line["token"] for line in third] == [_delivered_form("carol")]

        everything = server.lines()
        assert _delivered_form("bob") not in {line["token"] for line in everything}
        events = await _relay_events(relay.url)
        assert len(events) > 20  # the whole conversation is there to search
        for name in TOKENS:
            for form in clear_forms(_raw(name)):
                leaks = [e for e in events if form in e]
                assert not leaks, f"{name}'s token ({form}) is on the relay"
    finally:
        assert server.stop() == 0


def test_clear_forms_find_a_token_inside_base64() -> None:
    token = b"\x01\x02secret device token\xff"
    for prefix in (b"", b"a", b"ab", b"abc"):
        blob = base64.b64encode(prefix + token + b"tail").decode()
        assert any(form in blob for form in clear_forms(token))
