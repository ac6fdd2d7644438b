"""Building view rows that need more than one service call: names, reply quotes, the last
message of a chat."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app import AccountSession, timeline
from app.models import GroupInfo, MessageInfo
from ui.bridge.convert import avatar_bytes, chat_row, message_row, quote_of
from ui.views import ChatRow, MessageRow

CHAT_KIND = 9


async def names_of(session: AccountSession, pubkeys: Iterable[str]) -> dict[str, str]:
    wanted = list(dict.fromkeys(pubkeys))
    return await session.contacts.names(wanted) if wanted else {}


async def last_message(session: AccountSession, chat_id: str) -> MessageInfo | None:
    found = await session.messages.list_messages(chat_id, limit=1)
    return found[-1] if found else None


async def build_chat_row(session: AccountSession, info: GroupInfo) -> ChatRow:
    last = await last_message(session, info.id)
    members = {m.pubkey for m in info.members}
    names = {}
    if last is not None and last.author not in members:
        names = await names_of(session, [last.author])
    return chat_row(info, last, names, await _group_avatar(session, info))


_AVATARS: dict[str, bytes | None] = {}
"""Square previews of group pictures by image hash (decoding a picture per row is slow)."""


async def _group_avatar(session: AccountSession, info: GroupInfo) -> bytes | None:
    if not info.image or info.is_dm:
        return None
    if info.image not in _AVATARS:
        picture = await session.group_images.cached(info.image)
        if picture is None:
            session.group_images.fetch_later(info.id, info.image)
            return None
        _AVATARS[info.image] = avatar_bytes(picture.data)
    return _AVATARS[info.image]


async def message_by_id(
    session: AccountSession, chat_id: str, message_id: str
) -> MessageInfo | None:
    group = await session.groups.store.resolve(chat_id)
    return await session.messages.info_by_rumor(group.mls_group_id, message_id)


async def build_message_rows(
    session: AccountSession, chat_id: str, infos: Sequence[MessageInfo]
) -> list[MessageRow]:
    """Rows for messages of one chat, with author names and the quotes of replies."""
    loaded = {m.id: m for m in infos}
    targets: dict[str, MessageInfo | None] = {}
    for info in infos:
        target = info.reply_to
        if target is not None and target not in targets:
            targets[target] = loaded.get(target) or await message_by_id(session, chat_id, target)
    authors = [m.author for m in infos] + [t.author for t in targets.values() if t is not None]
    subjects = [c.subject for c in map(_change, infos) if c is not None and c.subject]
    names = await names_of(session, authors + subjects)
    out = []
    for info in infos:
        reply = info.reply_to
        quote = None if reply is None else quote_of(targets[reply], reply, names)
        out.append(message_row(info, names, quote, session.pubkey))
    return out


def _change(info: MessageInfo) -> timeline.Change | None:
    if info.kind != timeline.TIMELINE:
        return None
    return timeline.parse(None, info.content, info.author)


async def build_message_row(session: AccountSession, info: MessageInfo) -> MessageRow:
    return (await build_message_rows(session, info.group_id, [info]))[0]
