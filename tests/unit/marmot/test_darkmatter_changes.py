"""Group system rows (kind 1210) derived from applied Profile B commits."""

from __future__ import annotations

import json
import random

import pytest

from marmot.profile_b.changes import group_changes, system_rows
from marmot.profile_b.components import (
    AdminPolicy,
    ComponentId,
    GroupAvatarUrl,
    GroupLifecycle,
    GroupProfile,
    MessageRetention,
)
from marmot.profile_b.group import (
    CONFIG,
    GroupSettings,
    create_group_b,
    invite_b,
    remove_b,
    update_components_b,
)
from marmot.profile_b.inbound import departure_commit
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.payloads import SystemType
from mls.group import CommitProcessed, GroupState, join_from_welcome, process, propose_self_remove
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB, CAROL, DAVE = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3, 4))


def rng(seed: int):  # type: ignore[no-untyped-def]
    return random.Random(seed).randbytes


def founded() -> tuple[GroupState, GroupState, GroupState]:
    r = rng(1)
    kps = [create_key_package_b(k, now=NOW, rng=r) for k in (BOB, CAROL)]
    settings = GroupSettings(
        "old name", "", (BOB.public_key().data,), b"\x03" * 32, ("wss://a.example",)
    )
    founding = create_group_b(ALICE, settings, [k.key_package for k in kps], now=NOW, rng=r)
    assert founding.pending is not None and founding.pending.welcome is not None
    welcome = founding.pending.welcome
    bob, carol = (join_from_welcome(welcome, k, config=CONFIG) for k in kps)
    return founding.pending.next_state, bob, carol


def at_bob(bob: GroupState, message: object) -> CommitProcessed:
    result, _ = process(bob, message, now=NOW)  # type: ignore[arg-type]
    assert isinstance(result, CommitProcessed)
    return result


def kinds(prior: GroupState, summary: CommitProcessed) -> list[SystemType]:
    return [c.system_type for c in group_changes(prior, summary)]


def test_a_rename_and_everyone_derives_the_same_row() -> None:
    alice, bob, _ = founded()
    pending = update_components_b(
        alice, {ComponentId.GROUP_PROFILE: GroupProfile("new name").encode()}, rng=rng(2)
    )
    ours = system_rows(alice, pending.summary)
    theirs = system_rows(bob, at_bob(bob, pending.message))
    assert ours == theirs and len(ours) == 1
    assert ours[0].system_type is SystemType.GROUP_RENAMED and ours[0].epoch == 2
    data = json.loads(ours[0].content)["data"]
    assert data == {"actor": ALICE.public_key().hex, "name": "new name", "old_name": "old name"}


def test_invite_remove_and_admin_rows() -> None:
    alice, _, _ = founded()
    dave = create_key_package_b(DAVE, now=NOW, rng=rng(3)).key_package
    invite = invite_b(alice, [dave], now=NOW, rng=rng(4))
    changes = group_changes(alice, invite.summary)
    assert [(c.system_type, c.subject) for c in changes] == [
        (SystemType.MEMBER_ADDED, DAVE.public_key().data)
    ]
    removal = remove_b(alice, [BOB.public_key().data], rng=rng(5))
    assert kinds(alice, removal.summary) == [SystemType.MEMBER_REMOVED, SystemType.ADMIN_REMOVED]
    grant = update_components_b(
        alice,
        {
            ComponentId.ADMIN_POLICY: AdminPolicy.of(
                [ALICE.public_key().data, BOB.public_key().data, CAROL.public_key().data]
            ).encode()
        },
        rng=rng(6),
    )
    changes = group_changes(alice, grant.summary)
    assert [(c.system_type, c.subject) for c in changes] == [
        (SystemType.ADMIN_ADDED, CAROL.public_key().data)
    ]


def test_a_departure_is_the_leavers_row() -> None:
    alice, _, carol = founded()
    message, _ = propose_self_remove(carol, rng=rng(7))
    _, alice_with = process(alice, message, now=NOW)
    pending = departure_commit(alice_with, rng=rng(8))
    assert pending is not None
    (change,) = group_changes(alice_with, pending.summary)
    assert change.system_type is SystemType.MEMBER_LEFT
    assert change.actor == change.subject == CAROL.public_key().data


def test_avatar_retention_and_disband_rows() -> None:
    alice, _, _ = founded()
    avatar = GroupAvatarUrl.of("https://img.example/a.png").encode()
    pending = update_components_b(
        alice,
        {
            ComponentId.GROUP_AVATAR_URL: avatar,
            ComponentId.MESSAGE_RETENTION: MessageRetention(3600).encode(),
            ComponentId.GROUP_LIFECYCLE: GroupLifecycle.DISBANDED.encode(),
        },
        rng=rng(9),
    )
    changes = group_changes(alice, pending.summary)
    assert [c.system_type for c in changes] == [
        SystemType.GROUP_AVATAR_CHANGED,
        SystemType.DISAPPEARING_TIMER_CHANGED,
        SystemType.GROUP_DISBANDED,
    ]
    assert (changes[1].old_retention_secs, changes[1].new_retention_secs) == (0, 3600)
    assert group_changes(alice, update_components_b(alice, {}, rng=rng(10)).summary) == []
