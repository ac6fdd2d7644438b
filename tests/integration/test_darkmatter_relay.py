"""Profile B over the real relay: two of our Profile B clients find each other's 30443,
found a group through a gift-wrapped 444, and talk and rename through 445 events, every
event going through rust-nostr's relay process on 127.0.0.1 and read back by filter. Once
per account proof form: MDK master's 0x8009 and the July draft's 0xf2f1 (the e43fd5e
Dark Matter client's, ``tests/oracle/test_darkmatter_core.py`` runs it against that client)."""

from __future__ import annotations

import pytest

from marmot.profile_b.group import group_view
from marmot.profile_b.key_package import ProofForm
from marmot.profile_b.proofs import group_proof_form
from nostr.keys import SecretKey
from tests.helpers.darkmatter_peer import ProfileBPeer, adopted_commits
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.darkmatter, pytest.mark.asyncio]

ALICE, BOB = SecretKey(bytes([0x11]) * 32), SecretKey(bytes([0x22]) * 32)


@pytest.mark.parametrize("form", list(ProofForm))
async def test_two_profile_b_clients_through_the_relay(
    relay: RelayProcess, form: ProofForm
) -> None:
    async with ProfileBPeer(ALICE, relay.url) as alice, ProfileBPeer(BOB, relay.url) as bob:
        # bob's KeyPackage, found and validated by alice
        kp_event = await bob.publish_key_package(form=form)
        (candidate,) = await alice.key_packages(bob.hex)
        assert candidate.event_id == kp_event.id

        # alice founds the group in the invitee's proof form; bob joins from the 444
        group = await alice.create_group("relay test", [candidate])
        assert group_proof_form(group.state.extensions) is form
        (rumor,) = await bob.welcomes()
        assert rumor.key_package_event_id == kp_event.id and rumor.relays == (relay.url,)
        joined = bob.join(rumor)
        assert joined.hex_id == group.hex_id and joined.members == group.members

        # a chat each way
        hello = await alice.send(group, "hello bob")
        await bob.receive(joined)
        reply = await bob.send(joined, "hi alice")
        await alice.receive(group)
        assert joined.received == [hello] and group.received == [reply]

        # alice renames: a commit through the relay, applied by bob
        await alice.rename(group, "renamed")
        assert adopted_commits(await bob.receive(joined)) == 1
        assert group_view(joined.state).profile.name == "renamed"
        assert joined.tree.canonical.epoch == group.tree.canonical.epoch == 2
