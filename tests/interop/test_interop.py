"""Our MLS peer against the ts-mls and mls-rs peers (both directions) and against itself.

Every test builds a group across two peers and checks after each epoch change that all
members agree on epoch, tree hash, epoch authenticator, member list and MLS-Exporter
output, and that every application message reaches every other member.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.interop.driver import Peer, PeerClient, PeerFailed
from tests.interop.scenario import Group

pytestmark = pytest.mark.interop

PAIRS = [
    ("burrow", "ts-mls"),
    ("ts-mls", "burrow"),
    ("burrow", "mls-rs"),
    ("mls-rs", "burrow"),
    ("burrow", "burrow"),
]
PAIR_IDS = ["burrow-ts-mls", "ts-mls-burrow", "burrow-mls-rs", "mls-rs-burrow", "burrow-only"]


@pytest.fixture(params=PAIRS, ids=PAIR_IDS)
def pair(request: pytest.FixtureRequest) -> tuple[Peer, Peer]:
    """(the creator's peer, the first joiner's peer)."""
    creator, joiner = request.param
    peers = {"burrow": "our_peer", "ts-mls": "ts_peer", "mls-rs": "rs_peer"}
    return request.getfixturevalue(peers[creator]), request.getfixturevalue(peers[joiner])


@pytest.mark.parametrize("suite", range(1, 8))
def test_core_flow(pair: tuple[Peer, Peer], suite: int, names: Callable[[str], str]) -> None:
    """Create, add, join, messages both ways and a commit by the joiner, in every suite."""
    here, there = pair
    alice = PeerClient(here, names("alice"), suite)
    bob = PeerClient(there, names("bob"), suite)
    group = Group(alice, names("core").encode())
    group.check()
    group.add(alice, [bob], tree_ext=True, public=False)
    group.check()
    group.exchange()
    group.commit(bob, public=False)
    group.check()
    group.exchange()


@pytest.mark.parametrize("public", [False, True], ids=["private", "public"])
@pytest.mark.parametrize("tree_ext", [True, False], ids=["tree-ext", "tree-supplied"])
def test_full_flow(
    pair: tuple[Peer, Peer], tree_ext: bool, public: bool, names: Callable[[str], str]
) -> None:
    """Suite 1: adds by both sides, empty path commits, removes, exporter at every epoch."""
    here, there = pair
    alice, carol = PeerClient(here, names("alice")), PeerClient(here, names("carol"))
    bob, dave = PeerClient(there, names("bob")), PeerClient(there, names("dave"))
    group = Group(alice, names("full").encode())
    group.add(alice, [bob], tree_ext=tree_ext, public=public)
    group.check()
    group.exchange()
    group.add(bob, [carol, dave], tree_ext=tree_ext, public=public)  # by the other side
    group.check()
    group.exchange()
    for committer in (carol, bob, alice, dave):
        group.commit(committer, public=public)
        group.check()
    group.exchange()
    group.remove(alice, dave, public=public)
    group.check()
    late = group.exchange()
    for message in late:  # a removed member cannot read the next epoch's messages
        with pytest.raises(PeerFailed):
            dave.process(message)
    group.remove(carol, alice, public=public)  # the remover is on the creator's side
    group.check()
    group.commit(bob, public=public)
    group.check()
    group.exchange()
