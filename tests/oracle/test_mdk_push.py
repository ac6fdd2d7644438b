"""MIP-05 token gossip between Burrow and MDK, as far as mdk-python 0.8.0 allows.

mdk-uniffi 0.8.0 is built without mdk-core's ``mip05`` feature, so MDK can neither build
nor parse token messages from Python (see docs/mdk-interop.md). What it can show: Burrow's
token request (kind 447) travels through MDK as an ordinary group application message, and
its rumor has the shape mdk-core 0.8's ``parse_token_request_rumor`` demands (read from its
source: empty content, only ``token`` tags of exactly four values: base64 of the 1084-byte
encrypted token, the server's hex pubkey, a relay URL).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from nostr.relay import RelayPool
from nostr.relay_lists import inbox_relays_event
from nostr.signer import KeySigner
from tests.helpers.app_clients import eventually
from tests.helpers.nostr_factories import secret
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer
from tests.oracle.mdk_scenes import burrow_and_mdk_group, mdk_raw

pytestmark = [pytest.mark.mdk, pytest.mark.asyncio]

SERVER = secret("mdk oracle push server")
ENCRYPTED_TOKEN_LEN = 1084  # mdk-core 0.8 mip05: ephemeral key 32 + nonce 12 + 1024 + tag 16
TOKEN_REQUEST = 447


async def test_our_token_request_reaches_mdk_in_the_mip05_shape(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    server_inbox = inbox_relays_event(SERVER.public_key(), [any_relay.url], created_at=1)
    async with RelayPool(signer=KeySigner(SERVER)) as pool:  # AUTH relay: signed in
        await pool.add_relay(any_relay.url)
        (await pool.publish(server_inbox.sign(SERVER))).raise_for_failure()
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        server = SERVER.public_key().hex
        await alice.session.push.register("fcm", "alice-token", server, any_relay.url)
        await alice.session.push.settle()
        await alice.session.flush(10)

        seen = await eventually(
            lambda: mdk_raw(bob, gid), lambda ms: any(m["kind"] == TOKEN_REQUEST for m in ms)
        )
        [request] = [m for m in seen if m["kind"] == TOKEN_REQUEST]
        assert request["author"] == alice.pubkey and request["content"] == ""
        assert request["tags"] and all(t[0] == "token" and len(t) == 4 for t in request["tags"])
        for _, token, server_key, relay_hint in request["tags"]:
            assert len(base64.b64decode(token, validate=True)) == ENCRYPTED_TOKEN_LEN
            assert server_key == server
            assert relay_hint == any_relay.url
        # A chat message after it still flows both ways (the gossip left no gap in MDK).
        await bob("send", group=gid, content="after the token request")
        await eventually(
            lambda: alice.session.messages.list_messages(ref),
            lambda ms: any(m.content == "after the token request" for m in ms),
        )
    finally:
        await alice.close()
