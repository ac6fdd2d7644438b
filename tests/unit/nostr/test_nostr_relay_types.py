"""Small value types of nostr.relay and nostr.signer, without sockets."""

from __future__ import annotations

import asyncio
from types import MappingProxyType

import pytest

from nostr.errors import RelayRejected, RelayUnavailable, UsageError
from nostr.event import UnsignedEvent
from nostr.filters import Filter
from nostr.messages import MachineReadablePrefix
from nostr.relay import (
    PublishOutcome,
    PublishResult,
    RelayPool,
    RelayResponse,
    RelayStatus,
    RelayStatusChanged,
)
from nostr.session_events import OkReceived
from nostr.signer import KeySigner
from tests.helpers.nostr_factories import NOW, secret


def test_key_signer_signs_and_hides_its_key() -> None:
    key = secret("alice")
    signer = KeySigner(key)
    assert key.secret_hex() not in repr(signer)
    assert signer.public_key == key.public_key()
    unsigned = UnsignedEvent.create(key.public_key(), NOW, 1, "x")
    event = asyncio.run(signer.sign_event(unsigned))
    event.verify()


def test_relay_status_predicates() -> None:
    assert RelayStatus.CONNECTED.is_connected
    assert not RelayStatus.CONNECTING.is_connected
    assert all(s.can_connect for s in RelayStatus if s is not RelayStatus.TERMINATED)
    assert not RelayStatus.TERMINATED.can_connect


def test_publish_result_outcomes() -> None:
    ok = RelayResponse.from_ok(OkReceived("ab" * 32, True, "duplicate: x", None))
    no = RelayResponse.from_ok(
        OkReceived("ab" * 32, False, "blocked: go", MachineReadablePrefix.BLOCKED)
    )
    late = RelayResponse.from_ok(None)
    assert (ok.outcome, no.outcome, late.outcome) == (
        PublishOutcome.ACCEPTED,
        PublishOutcome.REJECTED,
        PublishOutcome.TIMED_OUT,
    )
    mixed = PublishResult("ab" * 32, MappingProxyType({"ws://a": no, "ws://b": ok}))
    assert mixed.success and mixed.accepted == ("ws://b",)
    mixed.raise_for_failure()
    refused = PublishResult("ab" * 32, MappingProxyType({"ws://a": late, "ws://b": no}))
    with pytest.raises(RelayRejected) as info:
        refused.raise_for_failure()
    assert (info.value.relay_url, info.value.prefix) == ("ws://b", "blocked")
    with pytest.raises(RelayUnavailable):
        PublishResult("ab" * 32, MappingProxyType({"ws://a": late})).raise_for_failure()
    with pytest.raises(RelayUnavailable):
        PublishResult("ab" * 32, MappingProxyType({})).raise_for_failure()


@pytest.mark.asyncio
async def test_pool_without_relays_and_after_close() -> None:
    seen: list[RelayStatusChanged] = []
    pool = RelayPool(on_status=seen.append)
    stream = pool.status_events()
    result = await pool.publish(
        UnsignedEvent.create(secret("a").public_key(), NOW, 1).sign(secret("a"))
    )
    assert not result.success and dict(result.responses) == {}
    with pytest.raises(UsageError):
        await pool.subscribe([Filter()], relays=["ws://127.0.0.1:1"])
    with pytest.raises(UsageError):
        pool.status("ws://127.0.0.1:1")
    sub = await pool.subscribe([Filter(kinds={1})])
    assert await sub.wait_eose(0.1)  # no relays: nothing to wait for
    await pool.close()
    assert [c async for c in stream] == []
    assert [i async for i in sub] == []
    with pytest.raises(UsageError):
        await pool.add_relay("ws://127.0.0.1:1")
    remove = pool.add_status_listener(seen.append)
    remove()
    remove()  # harmless twice
