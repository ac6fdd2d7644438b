"""Our pure Profile B core (``marmot.profile_b`` via ``tests/helpers/darkmatter_peer.py``, no
app) against the Dark Matter client ``dm`` (e43fd5e, built by ``tests/oracle/dm_install.py``),
both through the real relay on 127.0.0.1.

That client predates MDK master: it requires the July draft's 0xf2f1 v1 proof on every leaf
and OpenMLS 0.8.1's draft-08 last-resort marking, so our side publishes a
``ProofForm.DRAFT`` KeyPackage and founds draft-form groups for its KeyPackages.
"""

from __future__ import annotations

import pytest

from marmot.profile_b.key_package import ProofForm
from marmot.profile_b.proofs import group_proof_form
from nostr.keys import SecretKey
from tests.helpers.darkmatter_peer import ProfileBPeer, adopted_commits
from tests.helpers.relay import RelayProcess
from tests.oracle.conftest import DmUsers
from tests.oracle.dm_driver import poll

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.darkmatter,
    pytest.mark.integration,
    pytest.mark.asyncio,
]

ALICE = SecretKey(bytes([0x31]) * 32)


async def test_dm_invites_our_core_and_both_chat(relay: RelayProcess, dm_users: DmUsers) -> None:
    bob = await dm_users("bob", relay)
    async with ProfileBPeer(ALICE, relay.url) as alice:
        await alice.publish_relay_lists()
        kp = await alice.publish_key_package(form=ProofForm.DRAFT)

        made = await bob.create_group("from dm", [alice.hex], description="made by dm")
        group_id = str(made["group_id"])
        await bob.send(group_id, "hello from dm")

        (rumor,) = await poll(alice.welcomes, bool)
        assert rumor.key_package_event_id == kp.id
        group = alice.join(rumor)
        assert group_proof_form(group.state.extensions) is ProofForm.DRAFT
        assert group.members == sorted([alice.hex, bob.account or ""])
        assert group.name == "from dm"

        await poll(lambda: alice.receive(group), lambda _: bool(alice.texts(group)))
        assert alice.texts(group) == [(bob.account, "hello from dm")]

        await alice.send(group, "hello from burrow")
        texts = await poll(lambda: bob.texts(group_id), lambda t: len(t) == 2)
        assert sorted(texts) == sorted(
            [(bob.account, "hello from dm"), (alice.hex, "hello from burrow")]
        )


async def test_our_core_invites_dm_and_both_chat(relay: RelayProcess, dm_users: DmUsers) -> None:
    bob = await dm_users("bob", relay)
    async with ProfileBPeer(ALICE, relay.url) as alice:
        await alice.publish_relay_lists()
        assert bob.account is not None
        (candidate,) = await poll(lambda: alice.key_packages(bob.account or ""), bool)
        group = await alice.create_group(
            "from burrow", [candidate], description="by alice", admins=(bob.account,)
        )
        assert group_proof_form(group.state.extensions) is ProofForm.DRAFT

        chats = await poll(bob.chats, bool)
        group_id = str(chats[0]["group_id"])
        await alice.send(group, "welcome, dm")
        texts = await poll(lambda: bob.texts(group_id), bool)
        assert texts == [(alice.hex, "welcome, dm")]

        await bob.send(group_id, "thanks, burrow")
        await poll(lambda: alice.receive(group), lambda _: bool(alice.texts(group)))
        assert alice.texts(group) == [(bob.account, "thanks, burrow")]

        await alice.rename(group, "renamed by burrow")
        shown = await poll(lambda: bob.group(group_id), lambda g: "renamed" in str(g))
        assert "renamed by burrow" in str(shown)
        await bob.rename(group_id, "renamed by dm")
        outcomes = await poll(lambda: alice.receive(group), adopted_commits)
        assert adopted_commits(outcomes) == 1 and group.name == "renamed by dm"


async def test_concurrent_renames_by_dm_and_our_core_converge(
    relay: RelayProcess, dm_users: DmUsers
) -> None:
    """Both admins rename at the same epoch, each unaware of the other's commit: both keep
    both branches and settle on the same one by the convergence rule, then talk on it."""
    bob = await dm_users("bob", relay)
    async with ProfileBPeer(ALICE, relay.url) as alice:
        await alice.publish_relay_lists()
        (candidate,) = await poll(lambda: alice.key_packages(bob.account or ""), bool)
        group = await alice.create_group("race", [candidate], admins=(bob.account or "",))
        chat = str((await poll(bob.chats, bool))[0]["group_id"])

        base = group.tree.canonical
        ours = alice.rename_commit(group, "alice's name")
        event = alice.prepare(group, ours)
        await bob.rename(chat, "bob's name")  # dm commits on epoch 1 first
        await alice.publish(event)
        alice.adopt(group, base, ours)
        await alice.receive(group)
        assert len(base.children) == 2  # both commits kept at epoch 1

        settled = await poll(lambda: bob.name(chat), lambda n: n == group.name)
        assert settled in ("alice's name", "bob's name")
        await alice.send(group, "on the winning branch")
        texts = await poll(lambda: bob.texts(chat), bool)
        assert texts == [(alice.hex, "on the winning branch")]
        await bob.send(chat, "me too")
        await poll(lambda: alice.receive(group), lambda _: len(alice.texts(group)) == 1)
        assert alice.texts(group) == [(bob.account, "me too")]
