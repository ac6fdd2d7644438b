"""A history-purge request bound to a real two-member Profile B group (component 0x800d).

No vector file covers the binding to MLS state (``marmot-spec/history-purge-v1.json``
pins only the bytes, see ``test_darkmatter_history_purge.py``); these tests build the
request from real group states and check every bound field is refused once changed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from marmot.primitives import sha256
from marmot.profile_b import key_package
from marmot.profile_b.history_purge import InvalidHistoryPurge, sign_request
from marmot.profile_b.history_purge_binding import (
    capability_leaves,
    check_binding,
    request_core_for,
)
from mls.messages import Capabilities
from tests.unit.marmot.test_darkmatter_group import ALICE, BOB, two_members

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800


@pytest.fixture
def purge_capable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaves that also list app_ephemeral (0x0009) and component 0x800d."""
    base = key_package.profile_b_capabilities()

    def capabilities() -> Capabilities:
        return dataclasses.replace(base, proposals=(*base.proposals, 0x0009))

    monkeypatch.setattr(key_package, "profile_b_capabilities", capabilities)
    monkeypatch.setattr(
        key_package, "LEAF_APP_COMPONENTS", (*key_package.LEAF_APP_COMPONENTS, 0x800D)
    )


def _core_args() -> dict[str, Any]:
    return {"created_at": NOW, "expires_at": NOW + 86_400, "target_retention_secs": 3600}


def test_todays_profile_b_leaves_cannot_take_part() -> None:
    alice, _ = two_members()
    leaves = capability_leaves(alice)
    assert [leaf.leaf_index for leaf in leaves] == [0, 1]
    assert {leaf.account for leaf in leaves} == {ALICE.public_key().data, BOB.public_key().data}
    assert all(
        leaf.app_data_update and not leaf.app_ephemeral and not leaf.history_purge
        for leaf in leaves
    )
    with pytest.raises(InvalidHistoryPurge, match="every leaf must support"):
        request_core_for(alice, ALICE.public_key().data, **_core_args())


@pytest.mark.usefixtures("purge_capable")
def test_a_request_is_bound_to_its_parent_state() -> None:
    alice, bob = two_members()
    core = request_core_for(alice, BOB.public_key().data, **_core_args())
    assert core.members == tuple(sorted((ALICE.public_key().data, BOB.public_key().data)))
    assert core.parent_epoch == alice.epoch and core.group_id == alice.group_id
    assert core.parent_group_context_hash == sha256(alice.context_bytes)
    assert core.prior_retention_secs is None  # the founding state has no 0x8005
    check_binding(core, bob)  # the other member derives the same binding
    sign_request(BOB, core, rng=bytes).verify()
    alice_only = {"members": (ALICE.public_key().data,), "proposer": ALICE.public_key().data}
    for name, changes in (
        ("parent_epoch", {"parent_epoch": core.parent_epoch + 1}),
        ("parent_group_context_hash", {"parent_group_context_hash": bytes(32)}),
        ("capability_state_hash", {"capability_state_hash": bytes(32)}),
        ("prior_retention_secs", {"prior_retention_secs": 0}),
        ("members", alice_only),
    ):
        with pytest.raises(InvalidHistoryPurge, match=name):
            check_binding(dataclasses.replace(core, **changes), alice)
