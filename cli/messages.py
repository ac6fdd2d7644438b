"""``messages``: a group's history (``--changes``: with the group's own changes in words)
and ``messages edit GROUP ID TEXT``, which changes the text of one of ours for everyone
(Marmot v2 groups; Marmot v1 has no edits and refuses)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import AccountSession, timeline
from app.models import MessageInfo
from cli import words

if TYPE_CHECKING:
    from cli.commands import Cli


async def listing(cli: Cli) -> dict[str, Any]:
    session = cli.account
    found = await session.messages.list_messages(
        cli.args.group,
        limit=cli.args.limit,
        chat_only=not cli.args.all_kinds,
        with_changes=cli.args.changes,
    )
    names = await _names_in(session, found)
    return {"messages": [words.message(m, names, session.pubkey) for m in found]}


async def _names_in(session: AccountSession, found: list[MessageInfo]) -> dict[str, str]:
    """The names of the people the group's changes mention (authors are printed as keys)."""
    changes = [
        timeline.parse(None, m.content, m.author) for m in found if m.kind == timeline.TIMELINE
    ]
    people = {p for c in changes if c is not None for p in (c.actor, c.subject) if p}
    return await session.contacts.names(sorted(people)) if people else {}


async def edit(cli: Cli) -> dict[str, Any]:
    session = cli.account
    edited = await session.messages.edit(cli.args.group, cli.args.message, cli.args.text)
    return {"message": words.message(edited, {}, session.pubkey)}
