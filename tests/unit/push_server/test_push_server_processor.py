"""The notification server's core: gift wraps in, (platform, device token) out."""

from __future__ import annotations

import dataclasses

import pytest

from marmot.push import ENCRYPTED_TOKEN_LEN, Platform, PushToken
from nostr.event import Event
from nostr.keys import SecretKey
from push_server.processor import (
    MAX_FUTURE_SKEW,
    SeenTriggers,
    ServerStats,
    TriggerProcessor,
)
from tests.helpers.nostr_factories import NOW, secret
from tests.helpers.push_factories import (
    apns,
    encrypted,
    fcm,
    forged_wrap,
    raw_rumor,
    rewrap,
    trigger,
)

SERVER = secret("push server")
PUB = SERVER.public_key()
RELAY = "ws://127.0.0.1:7777"
A = fcm("fcm-token-of-alice")
C = apns(bytes(range(32)))


def _processor(**kwargs: int) -> TriggerProcessor:
    return TriggerProcessor(SERVER, **kwargs)


def _only_counts(stats: ServerStats) -> dict[str, int]:
    return {k: v for k, v in stats.as_dict().items() if v}


def test_valid_trigger_yields_every_token() -> None:
    proc = _processor()
    wrap = trigger(PUB, encrypted(PUB, [A, C]), now=NOW)
    notes = proc.process(wrap, RELAY, NOW)
    assert [(n.platform, n.device_token) for n in notes] == [
        (Platform.FCM, A.device_token),
        (Platform.APNS, C.device_token),
    ]
    assert {n.relay_url for n in notes} == {RELAY}
    assert {n.received_at for n in notes} == {NOW}
    assert len({n.trigger_id for n in notes}) == 1
    assert _only_counts(proc.stats) == {"wraps": 1, "triggers": 1, "tokens": 2}


def test_token_is_not_in_repr() -> None:
    note = _processor().process(trigger(PUB, encrypted(PUB, [A]), now=NOW), RELAY, NOW)[0]
    assert "fcm-token" not in repr(note)


def test_repeated_wrap_is_delivered_once() -> None:
    proc = _processor()
    wrap = trigger(PUB, encrypted(PUB, [A]), now=NOW)
    assert len(proc.process(wrap, RELAY, NOW)) == 1
    assert proc.process(wrap, "ws://other.example", NOW + 1) == []
    assert proc.stats.duplicate_wraps == 1


def test_same_rumor_in_a_new_wrap_is_delivered_once() -> None:
    proc = _processor()
    author = SecretKey.generate()
    rumor = raw_rumor(author, now=NOW, content=b"".join(encrypted(PUB, [A])))
    first = rewrap(rumor, author, PUB, now=NOW)
    second = rewrap(rumor, author, PUB, now=NOW)
    assert first.id != second.id
    assert len(proc.process(first, RELAY, NOW)) == 1
    assert proc.process(second, RELAY, NOW) == []
    assert proc.stats.duplicate_triggers == 1


def test_two_triggers_for_the_same_device_both_push() -> None:
    """Two messages, two pushes: dedupe is per trigger, not per device."""
    proc = _processor()
    for _ in range(2):
        assert len(proc.process(trigger(PUB, encrypted(PUB, [A]), now=NOW), RELAY, NOW)) == 1
    assert proc.stats.triggers == 2


def test_duplicate_token_inside_one_trigger_is_pushed_once() -> None:
    proc = _processor()
    notes = proc.process(trigger(PUB, encrypted(PUB, [A, A, C]), now=NOW), RELAY, NOW)
    assert len(notes) == 2
    assert proc.stats.duplicate_tokens == 1


@pytest.mark.parametrize(
    ("created_at", "stale"),
    [
        (NOW - 100, False),
        (NOW - 100 - 1, True),
        (NOW + MAX_FUTURE_SKEW, False),
        (NOW + MAX_FUTURE_SKEW + 1, True),
    ],
)
def test_age_window(created_at: int, stale: bool) -> None:
    proc = _processor(max_age=100)
    wrap = trigger(PUB, encrypted(PUB, [A]), now=created_at)
    assert (proc.process(wrap, RELAY, NOW) == []) is stale
    assert proc.stats.stale_triggers == int(stale)


def test_bad_tokens_are_skipped_and_counted_the_rest_delivered() -> None:
    other_server = secret("another server").public_key()
    good = encrypted(PUB, [A])[0]
    corrupted = bytearray(encrypted(PUB, [C])[0])
    corrupted[-1] ^= 1
    foreign = encrypted(other_server, [C])[0]
    not_a_point = b"\xff" * 32 + good[32:]
    proc = _processor()
    wrap = trigger(PUB, [bytes(corrupted), good, foreign, not_a_point], now=NOW)
    notes = proc.process(wrap, RELAY, NOW)
    assert [n.device_token for n in notes] == [A.device_token]
    assert proc.stats.invalid_tokens == 3
    assert proc.stats.tokens == 4


def _assert_refused(proc: TriggerProcessor, wrap: Event) -> None:
    assert proc.process(wrap, RELAY, NOW) == []
    assert proc.stats.invalid_wraps == 1
    assert proc.stats.triggers == 0


def test_wrap_for_another_server_is_refused() -> None:
    other = secret("another server").public_key()
    _assert_refused(_processor(), trigger(other, encrypted(PUB, [A]), now=NOW))


def test_tampered_wrap_is_refused() -> None:
    wrap = trigger(PUB, encrypted(PUB, [A]), now=NOW)
    forged = dataclasses.replace(wrap, created_at=wrap.created_at - 1)
    _assert_refused(_processor(), forged)


def test_seal_signed_by_someone_else_than_the_rumor_author_is_refused() -> None:
    rumor = raw_rumor(SecretKey.generate(), now=NOW, content=b"".join(encrypted(PUB, [A])))
    _assert_refused(_processor(), forged_wrap(rumor, SecretKey.generate(), PUB, now=NOW))


def test_seal_of_the_wrong_kind_is_refused() -> None:
    author = SecretKey.generate()
    rumor = raw_rumor(author, now=NOW, content=b"".join(encrypted(PUB, [A])))
    assert len(_processor().process(forged_wrap(rumor, author, PUB, now=NOW), RELAY, NOW)) == 1
    _assert_refused(_processor(), forged_wrap(rumor, author, PUB, now=NOW, seal_kind=14))


BAD_RUMORS = {
    "kind 9": {"kind": 9},
    "kind 447": {"kind": 447},
    "wrong version": {"tags": (("v", "marmot-push-v1"), ("encoding", "base64"))},
    "no version": {"tags": (("encoding", "base64"),)},
    "extra tag": {"tags": (("v", "mip05-v1"), ("encoding", "base64"), ("p", "00" * 32))},
    "hex encoding": {"tags": (("v", "mip05-v1"), ("encoding", "hex"))},
    "not base64": {"content": "@@@@"},
    "empty content": {"content": ""},
    "partial token": {"content": b"\x01" * (ENCRYPTED_TOKEN_LEN - 1)},
    "token and a half": {"content": b"\x01" * (ENCRYPTED_TOKEN_LEN * 3 // 2)},
}


@pytest.mark.parametrize("case", BAD_RUMORS)
def test_rumor_rules(case: str) -> None:
    author = SecretKey.generate()
    fields: dict[str, object] = {"content": b"".join(encrypted(PUB, [A]))}
    fields.update(BAD_RUMORS[case])
    rumor = raw_rumor(author, now=NOW, **fields)  # type: ignore[arg-type]
    _assert_refused(_processor(), rewrap(rumor, author, PUB, now=NOW))


def test_missing_encoding_tag_is_accepted_like_transponder() -> None:
    author = SecretKey.generate()
    content = b"".join(encrypted(PUB, [A]))
    rumor = raw_rumor(author, now=NOW, content=content, tags=(("v", "mip05-v1"),))
    assert len(_processor().process(rewrap(rumor, author, PUB, now=NOW), RELAY, NOW)) == 1


def test_not_a_gift_wrap_is_refused() -> None:
    wrap = trigger(PUB, encrypted(PUB, [A]), now=NOW)
    note = dataclasses.replace(wrap, kind=1)
    _assert_refused(_processor(), note)


def test_seen_triggers_window_persistence_and_sweep() -> None:
    added: list[tuple[str, int]] = []
    seen = SeenTriggers(100, on_add=lambda i, t: added.append((i, t)))
    assert seen.add("a", NOW, NOW)
    assert not seen.add("a", NOW, NOW)
    assert seen.add("b", NOW - 50, NOW)
    assert added == [("a", NOW), ("b", NOW - 50)]
    seen.sweep(NOW + 60)
    assert "b" not in seen
    assert "a" in seen
    restored = SeenTriggers(100)
    restored.load([("a", NOW), ("old", NOW - 101)], NOW)
    assert len(restored) == 1
    assert not restored.add("a", NOW, NOW)


def test_seen_set_stays_bounded_by_the_window() -> None:
    seen = SeenTriggers(10)
    for i in range(5000):
        seen.add(f"id{i}", NOW + i, NOW + i)
    assert len(seen) <= 1024 + 11


def test_processor_restored_state_blocks_a_replayed_trigger() -> None:
    wrap = trigger(PUB, encrypted(PUB, [A]), now=NOW)
    first = _processor()
    assert len(first.process(wrap, RELAY, NOW)) == 1
    restarted = _processor()
    restarted.seen.load(first.seen.entries(), NOW)
    assert restarted.process(wrap, RELAY, NOW + 5) == []
    assert restarted.stats.duplicate_triggers == 1


def test_push_token_equality_used_for_dedupe() -> None:
    assert PushToken(Platform.FCM, b"x") == PushToken(Platform.FCM, b"x")
    assert PushToken(Platform.FCM, b"x") != PushToken(Platform.APNS, b"x")
