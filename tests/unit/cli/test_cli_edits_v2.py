"""``messages edit`` in a real Marmot v2 (Dark Matter) group over the real relay: Alice is
CLI processes, Bob the app's services in this process (he publishes the v2 key package the
CLI's account cannot publish yet). Her edit reaches him; his reaches her ``messages``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_client import CliClient
from tests.helpers.app_clients import Client, catch_up, eventually, make_client
from tests.helpers.dm_clients import publish_b_key_package
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.asyncio]


async def cli(client: CliClient, *args: str, sync: bool = False) -> dict[str, Any]:
    return await asyncio.to_thread(client.run, *args, sync=sync)


async def bob_sees(bob: Client, group: str, text: str) -> Any:
    async def probe() -> list[Any]:
        await catch_up(bob)
        return await bob.session.messages.list_messages(group)

    found = await eventually(probe, lambda ms: any(m.content == text for m in ms), 30)
    return next(m for m in found if m.content == text)


async def test_edits_both_ways_with_the_cli(relay: RelayProcess, tmp_path: Path) -> None:
    alice = CliClient("alice", tmp_path / "alice", relay.url)
    await asyncio.to_thread(alice.create)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        await publish_b_key_package(bob)
        created = await cli(
            alice, "group", "create", "Dark", "--member", bob.npub, "--profile", "darkmatter"
        )
        group = created["group"]
        assert (group["protocol"], group["can_edit"]) == ("Marmot v2 (Dark Matter)", True)
        await catch_up(bob)
        invites = await eventually(bob.session.invites.list_invites, bool)
        assert invites[0].group_id == group["id"]
        joined = await bob.session.invites.accept(invites[0].id)
        assert (joined.profile, joined.can_edit) == ("darkmatter", True)

        sent = (await cli(alice, "send", group["id"], "Count me inn"))["message"]
        assert (await bob_sees(bob, group["id"], "Count me inn")).edited_at is None
        edited = await cli(alice, "messages", "edit", group["id"], sent["id"], "Count me in")
        mine = edited["message"]
        assert (mine["id"], mine["content"], mine["edited"]) == (sent["id"], "Count me in", True)
        seen = await bob_sees(bob, group["id"], "Count me in")
        assert seen.id == sent["id"] and seen.edited_at is not None

        said = await bob.session.messages.send(group["id"], "Saturday at 8?")
        await bob.session.flush(10)
        await bob.session.messages.edit(group["id"], said.id, "Saturday at 9?")
        await bob.session.flush(10)
        listed = (await cli(alice, "messages", group["id"], sync=True))["messages"]
        shown = [(m["content"], m["edited"]) for m in listed]
        assert shown == [("Count me in", True), ("Saturday at 9?", True)]
        refused = await asyncio.to_thread(
            alice.fails, "messages", "edit", group["id"], said.id, "not yours"
        )
        assert refused["type"] == "NotAllowed"
    finally:
        await bob.close()
