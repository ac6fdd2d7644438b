"""MIP-05 decisions: whose tokens a message wakes, what a 448 lists, when we answer."""

from __future__ import annotations

from app.push_policy import (
    MAX_PENDING_REPLIES,
    REPLY_COOLDOWN,
    ReplyPolicy,
    fingerprint,
    list_entries,
    notification_tokens,
    reply_delay,
    response_tokens,
)
from marmot.push import LeafTokenTag, Platform, PushToken, TokenTag, decrypt_token, encrypt_token
from storage.rows import GroupPushToken, PushPlatform, PushRegistration
from tests.helpers.nostr_factories import CountingRng, secret
from tests.helpers.storage_factories import ALICE, BOB, CAROL, gid

SERVER = secret("policy server").public_key()
OTHER_SERVER = secret("policy server 2").public_key()
HINT = "wss://push.example"
G = gid("push")
RNG = CountingRng("policy")


def _row(
    leaf: int, pubkey: str, text: str, *, server: str = SERVER.hex, hint: str = HINT
) -> GroupPushToken:
    token = encrypt_token(SERVER, PushToken(Platform.FCM, text.encode()), rng=RNG)
    return GroupPushToken(G, leaf, pubkey, token, server, hint, 0)


def test_notification_tokens_exclude_us_stale_and_unhinted_leaves() -> None:
    members = {0: ALICE, 1: BOB, 2: CAROL, 3: ALICE}
    rows = [
        _row(0, ALICE, "alice-phone"),  # us
        _row(3, ALICE, "alice-tablet"),  # another device of ours
        _row(1, BOB, "bob"),
        _row(2, BOB, "bob-old-leaf"),  # leaf 2 is Carol's now
        _row(4, CAROL, "carol-left"),  # leaf 4 left the tree
        _row(2, CAROL, "carol-no-hint", hint=""),
    ]
    tags = notification_tokens(rows, members, ALICE)
    assert [t.encrypted_token for t in tags] == [rows[2].token]


def test_notification_tokens_dedupe_and_skip_malformed_rows() -> None:
    members = {1: BOB, 2: CAROL}
    bob = _row(1, BOB, "bob")
    same_token_other_leaf = GroupPushToken(G, 2, CAROL, bob.token, SERVER.hex, HINT, 0)
    broken = GroupPushToken(G, 2, CAROL, b"short", SERVER.hex, HINT, 0)
    bad_server = GroupPushToken(G, 2, CAROL, bob.token, "zz" * 32, HINT, 0)
    tags = notification_tokens([bob, same_token_other_leaf, broken, bad_server], members, ALICE)
    assert len(tags) == 1


def test_tokens_decrypt_at_the_server_they_name() -> None:
    [tag] = notification_tokens([_row(1, BOB, "bob-device")], {1: BOB}, ALICE)
    assert decrypt_token(secret("policy server"), tag.encrypted_token).device_token == b"bob-device"


def test_response_tokens_list_every_active_leaf_including_ours() -> None:
    rows = [_row(0, ALICE, "a"), _row(1, BOB, "b"), _row(5, CAROL, "gone")]
    listed = response_tokens(rows, {0: ALICE, 1: BOB})
    assert [(e.leaf_index, e.token.encrypted_token) for e in listed] == [
        (0, rows[0].token),
        (1, rows[1].token),
    ]


def test_list_entries_only_leaves_in_the_tree_never_our_own() -> None:
    tag = TokenTag(_row(1, BOB, "x").token, SERVER, HINT)
    entries = [LeafTokenTag(tag, 0), LeafTokenTag(tag, 1), LeafTokenTag(tag, 9)]
    assert list_entries(entries, {0: ALICE, 1: BOB}, own_leaf=0) == [(1, BOB, tag)]


def test_fingerprint_changes_with_every_field() -> None:
    base = PushRegistration(PushPlatform.FCM, b"tok", SERVER.hex, HINT, 1)
    variants = [
        PushRegistration(PushPlatform.APNS, b"tok", SERVER.hex, HINT, 1),
        PushRegistration(PushPlatform.FCM, b"tok2", SERVER.hex, HINT, 1),
        PushRegistration(PushPlatform.FCM, b"tok", OTHER_SERVER.hex, HINT, 1),
        PushRegistration(PushPlatform.FCM, b"tok", SERVER.hex, None, 1),
    ]
    assert len({fingerprint(v) for v in [base, *variants]}) == 5
    same_later = PushRegistration(PushPlatform.FCM, b"tok", SERVER.hex, HINT, 99)
    assert fingerprint(same_later) == fingerprint(base)


def test_reply_delay_is_between_one_and_three_seconds() -> None:
    delays = [reply_delay(RNG) for _ in range(200)]
    assert all(1.0 <= d <= 3.0 for d in delays)
    assert max(delays) - min(delays) > 1.5
    assert reply_delay(lambda n: b"\x00" * n) == 1.0
    assert reply_delay(lambda n: b"\xff" * n) == 3.0


def test_reply_cooldown_per_group_and_leaf() -> None:
    policy = ReplyPolicy()
    assert policy.want_reply(G, "r1", 1, 100)
    assert not policy.want_reply(G, "r2", 1, 100 + REPLY_COOLDOWN - 1)  # same leaf, too soon
    assert policy.want_reply(G, "r3", 2, 101)  # another leaf
    assert policy.want_reply(gid("other"), "r4", 1, 101)  # another group
    assert policy.want_reply(G, "r5", 1, 100 + REPLY_COOLDOWN)


def test_someone_else_answering_cancels_our_reply() -> None:
    policy = ReplyPolicy()
    assert policy.want_reply(G, "req", 1, 0)
    assert policy.answered(G, "req")  # their 448 arrived: ours was waiting
    assert not policy.answered(G, "req")  # so when our timer fires, nothing is sent


def test_pending_replies_are_capped() -> None:
    policy = ReplyPolicy()
    for leaf in range(MAX_PENDING_REPLIES):
        assert policy.want_reply(G, f"r{leaf}", leaf, 0)
    assert not policy.want_reply(G, "one-too-many", 99, 0)
    policy.answered(G, "r0")
    assert policy.want_reply(G, "now-fits", 100, 0)
