"""Our NIP-46 client (`RemoteSigner`) against NDK's bunker backend, a separate Node process,
over the real relay on 127.0.0.1: every method, secrets, refusals, auth_url approval, a slow
signer, the signer restarting mid-request, and the nostrconnect:// offer flow."""

from __future__ import annotations

import asyncio
import json

import pytest

from nostr import nip44
from nostr.errors import RemoteSignerError, SignerUnavailable
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from nostr.kinds import Kind
from nostr.nip46_uri import BunkerUri, NostrConnectUri
from nostr.relay.remote_signer import RemoteSigner, RemoteSignerOptions, SignerState
from tests.helpers.bunker import BunkerFactory
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

FAST = RemoteSignerOptions(attempt_timeout=1.5, attempts=3, approval_timeout=20.0)


def client(uri: str, options: RemoteSignerOptions = FAST) -> RemoteSigner:
    return RemoteSigner(SecretKey.generate(), BunkerUri.parse(uri), options=options)


async def test_every_method_through_the_ndk_bunker(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user, secret="open sesame")
    signer = client(bunker.uri)
    states: list[SignerState] = []
    signer.add_status_listener(lambda s: states.append(s.state))
    await signer.start()
    try:
        assert await signer.connect() == user.public_key()
        assert signer.public_key == user.public_key()
        await signer.ping()
        unsigned = UnsignedEvent.create(user.public_key(), 1700000000, Kind.SEAL, "x")
        event = await signer.sign_event(unsigned)
        assert event.id == unsigned.id
        event.verify()
        assert await signer.sign_event(unsigned) == event  # cached: no second request
        peer = SecretKey.generate()
        payload = await signer.nip44_encrypt(peer.public_key(), "to the peer")
        assert nip44.decrypt(payload, nip44.conversation_key(peer, user.public_key())) == (
            "to the peer"
        )
        theirs = nip44.encrypt("from the peer", nip44.conversation_key(peer, user.public_key()))
        assert await signer.nip44_decrypt(peer.public_key(), theirs) == "from the peer"
        assert await signer.nip44_decrypt(peer.public_key(), theirs) == "from the peer"
        assert signer.round_trips == {
            "connect": 1,
            "get_public_key": 1,
            "ping": 1,
            "sign_event": 1,
            "nip44_encrypt": 1,
            "nip44_decrypt": 1,
        }
        # NDK asks its permission callback (which logs) for everything but get_public_key.
        assert sorted(bunker.requests) == sorted(set(signer.round_trips) - {"get_public_key"})
        assert signer.status.state is SignerState.READY and SignerState.READY in states
    finally:
        await signer.close()


async def test_concurrent_requests_are_pipelined(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user, delay_ms=300)
    signer = client(bunker.uri)
    await signer.start()
    try:
        await signer.connect()
        unsigned = [
            UnsignedEvent.create(user.public_key(), 1700000000 + i, 1, str(i)) for i in range(6)
        ]
        loop = asyncio.get_running_loop()
        began = loop.time()
        signed = await asyncio.gather(*(signer.sign_event(u) for u in unsigned))
        assert [e.id for e in signed] == [u.id for u in unsigned]
        assert loop.time() - began < 6 * 0.3  # in flight together, not one after another
    finally:
        await signer.close()


async def test_wrong_secret_and_a_refusing_signer_are_typed(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    bunker = bunker_factory(relay.url, secret="right")
    wrong = client(bunker.uri.replace("secret=right", "secret=wrong"))
    await wrong.start()
    try:
        with pytest.raises(RemoteSignerError) as caught:
            await wrong.connect()
        assert caught.value.method == "connect"
        assert wrong.status.state is SignerState.REFUSED
    finally:
        await wrong.close()

    user = SecretKey.generate()
    deny = bunker_factory(relay.url, user, policy="deny")
    signer = RemoteSigner(
        SecretKey.generate(), BunkerUri.parse(deny.uri), user=user.public_key(), options=FAST
    )
    await signer.start()
    try:
        await signer.ping()  # reachable...
        with pytest.raises(RemoteSignerError, match="Not authorized"):
            await signer.sign_event(UnsignedEvent.create(user.public_key(), 1700000001, 1, "no"))
        assert signer.status.state is SignerState.REFUSED
        assert signer.status.detail == "Not authorized"
    finally:
        await signer.close()


async def test_auth_url_challenge_waits_for_the_person(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user, policy="approve")
    signer = client(bunker.uri)
    await signer.start()
    try:
        task = asyncio.ensure_future(signer.connect())
        for _ in range(100):
            if signer.status.state is SignerState.WAITING_APPROVAL:
                break
            await asyncio.sleep(0.05)
        assert signer.status.auth_url == "http://127.0.0.1/approve"
        await asyncio.sleep(FAST.attempt_timeout + 0.5)  # past one attempt: still waiting
        assert not task.done() and bunker.count("connect") == 1  # not asked twice
        bunker.approve()
        assert await task == user.public_key()
        assert signer.status.state is SignerState.READY
    finally:
        await signer.close()


async def test_offline_signer_then_restart_mid_request(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    signer = client(bunker.uri)
    await signer.start()
    try:
        await signer.connect()
        bunker.stop()
        with pytest.raises(SignerUnavailable):
            await signer.ping()
        assert signer.status.state is SignerState.OFFLINE
        # A request sent while it is down is sent again and answered once it is back.
        task = asyncio.ensure_future(
            signer.sign_event(UnsignedEvent.create(user.public_key(), 1700000002, 1, "later"))
        )
        await asyncio.sleep(0.5)
        await asyncio.to_thread(bunker.start)
        event = await task
        assert event.content == "later"
        assert signer.status.state is SignerState.READY
    finally:
        await signer.close()


async def test_nostrconnect_offer_taken_up_by_the_bunker(
    relay: RelayProcess, bunker_factory: BunkerFactory
) -> None:
    user = SecretKey.generate()
    local = SecretKey.generate()
    offer = NostrConnectUri(local.public_key(), (relay.url,), "offer-secret", (), "Burrow")
    signer = RemoteSigner.for_offer(local, offer, options=FAST)
    await signer.start()
    try:
        waiting = asyncio.ensure_future(signer.await_offer(offer, timeout=20))
        await asyncio.sleep(0.2)
        bunker = await asyncio.to_thread(bunker_factory, relay.url, user, offer=offer.to_uri())
        assert await waiting == user.public_key()  # NDK's signer key is the user's key
        assert await signer.get_public_key() == user.public_key()
        assert bunker.requests == []  # get_public_key is not logged by NDK
        event = await signer.sign_event(
            UnsignedEvent.create(user.public_key(), 1700000003, 1, "hi")
        )
        assert json.loads(event.to_json())["pubkey"] == user.public_key().hex
    finally:
        await signer.close()
