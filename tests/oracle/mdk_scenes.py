"""Steps the MDK oracle scenarios share: a Burrow user and a White Noise user in one group,
and what each side shows of it (decrypted content, authors by pubkey)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.app_clients import Client, eventually, make_client
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer, MdkUser


async def mdk_texts(user: MdkUser, group: str) -> list[tuple[str, str]]:
    await user("sync")
    return [(m["author"], m["content"]) for m in await user("messages", group=group)]


async def burrow_texts(client: Client, group: str) -> list[tuple[str, str]]:
    return [(m.author, m.content) for m in await client.session.messages.list_messages(group)]


async def burrow_and_mdk_group(
    relay: RelayProcess, peer: MdkPeer, tmp_path: Path, *, burrow_admin: bool
) -> tuple[Client, MdkUser, str, str]:
    """Alice (Burrow) and Bob (MDK) in a two-member group made by Alice or by Bob;
    returns (alice, bob, Burrow's group ref, MDK's group id)."""
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await MdkUser.create(peer, "bob", relay.url)
    if burrow_admin:
        group = await alice.session.groups.create("Pair", [bob.npub])
        synced = await eventually(lambda: bob("sync"), lambda r: bool(r["groups"]))
        return alice, bob, group.id, synced["groups"][0]["id"]
    made = await bob("create_group", members=[alice.pubkey], name="Pair", description="")
    invites = await eventually(alice.session.invites.list_invites, bool)
    joined = await alice.session.invites.accept(invites[0].id)
    await eventually(lambda: bob("sync"), lambda r: r["groups"][0]["epoch"] >= 2)
    return alice, bob, joined.id, made["id"]


async def mdk_raw(user: MdkUser, group: str) -> list[dict[str, Any]]:
    await user("sync")
    result: list[dict[str, Any]] = await user("messages", group=group)
    return result
