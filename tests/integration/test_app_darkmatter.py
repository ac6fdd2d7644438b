"""Profile B ("Dark Matter") groups between in-process `Services` over the real relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.app_clients import Client, catch_up, eventually, make_client
from tests.helpers.dm_clients import dm_group_with
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.darkmatter, pytest.mark.asyncio]


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]


async def _wait_texts(client: Client, group: str, expected: list[str]) -> None:
    async def probe() -> list[str]:
        await catch_up(client)
        return await _texts(client, group)

    await eventually(probe, lambda t: t == expected)


async def test_create_join_and_chat_both_ways(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await dm_group_with(alice, "Dark", bob)
        joined = await bob.session.groups.info(group.id)
        assert (joined.profile, joined.can_edit, joined.name) == ("darkmatter", True, "Dark")
        assert {m.pubkey for m in joined.members} == {alice.pubkey, bob.pubkey}
        assert joined.admins == (alice.pubkey,)
        await alice.session.messages.send(group.id, "hello bob")
        await alice.session.flush(10)
        await _wait_texts(bob, group.id, ["hello bob"])
        await bob.session.messages.send(group.id, "hi alice")
        await bob.session.flush(10)
        await _wait_texts(alice, group.id, ["hello bob", "hi alice"])
    finally:
        await alice.close()
        await bob.close()
