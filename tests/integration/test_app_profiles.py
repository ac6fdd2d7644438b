"""The profile surface of groups: every group reports its Marmot generation, and only
Profile B groups allow edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import NotAllowed
from app.errors import InvalidInput
from tests.helpers.app_clients import make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_profile_a_group_says_so_and_refuses_edits(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    try:
        group = await alice.session.groups.create("Solo", [], profile="mip")
        assert (group.profile, group.can_edit) == ("mip", False)
        sent = await alice.session.messages.send(group.id, "first")
        assert sent.edited_at is None
        with pytest.raises(NotAllowed):
            await alice.session.messages.edit(group.id, sent.id, "second")
        with pytest.raises(InvalidInput):
            await alice.session.groups.create("Odd", [], profile="v3")
    finally:
        await alice.close()


@pytest.mark.darkmatter
async def test_a_forced_profile_b_needs_every_invitees_key_package(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")  # a Profile A key package only
    try:
        with pytest.raises(InvalidInput, match="Dark Matter"):
            await alice.session.groups.create("B", [bob.npub], profile="darkmatter")
        assert await alice.session.groups.list_groups() == []
        solo = await alice.session.groups.create("Notes", [], profile="darkmatter")
        assert (solo.profile, solo.can_edit, solo.members[0].pubkey) == (
            "darkmatter", True, alice.pubkey,
        )  # fmt: skip
        note = await alice.session.messages.send(solo.id, "to self")
        edited = await alice.session.messages.edit(solo.id, note.id, "to myself")
        assert edited.content == "to myself" and edited.edited_at is not None
    finally:
        await alice.close()
        await bob.close()
