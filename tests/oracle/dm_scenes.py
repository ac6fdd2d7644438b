"""Steps the Dark Matter oracle scenarios share: what each side shows of a group, and the
draft-form KeyPackage arrangement that lets ``dm`` invite a Burrow user."""

from __future__ import annotations

from marmot.profile_b.key_package import ProofForm
from nostr.event import UnsignedEvent
from nostr.filters import Filter
from nostr.kinds import Kind
from tests.helpers.app_clients import Client
from tests.helpers.dm_clients import publish_b_key_package
from tests.oracle.dm_driver import DmUser, poll


async def burrow_texts(client: Client, group: str) -> list[tuple[str, str]]:
    """(author, text) of the group's chat messages (no system rows), oldest first."""
    shown = await client.session.messages.list_messages(group)
    return [(m.author, m.content) for m in shown if m.kind == 9]


async def dm_chat_of(user: DmUser, known: int = 0) -> str:
    """The group id of the chat ``user`` joined beyond the first ``known`` (dm accepts a
    Welcome by itself)."""
    chats = await poll(user.chats, lambda c: len(c) > known)
    return str(chats[known]["group_id"])


async def draft_key_package_only(client: Client) -> str:
    """Give ``client`` a draft-form (0xf2f1) Profile B KeyPackage and withdraw its others
    (NIP-09): the e43fd5e client refuses an invitee outright when any one of its 30443s
    breaks its rules, and Burrow's own (Profile A, and B with 0x8009) all do. Returns the
    draft KeyPackage's event id."""
    session = client.session
    secret = session.account.secret
    assert secret is not None
    keep = await publish_b_key_package(client, form=ProofForm.DRAFT)
    relays = session.relays.mine
    mine = await session.pool.fetch(
        [Filter(authors=[client.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], relays=relays
    )
    others = tuple(("e", e.id) for e in mine if e.id != keep)
    if others:
        tags = (*others, ("k", str(int(Kind.MLS_KEY_PACKAGE))))
        # Our key packages may be dated a little ahead; a deletion older than them is void.
        stamp = max(session.ctx.now(), *(e.created_at for e in mine))
        deletion = UnsignedEvent.create(client.pubkey, stamp, 5, "", tags)
        result = await session.pool.publish(deletion.sign(secret), relays=relays)
        assert result.success, result
    left = await session.pool.fetch(
        [Filter(authors=[client.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], relays=relays
    )
    assert [e.id for e in left] == [keep]
    return keep
