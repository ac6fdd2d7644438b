"""One chat of the in-memory backend: its messages, reactions, members and flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from ui.views import ChatRow, MemberRow, MessageRow


@dataclass
class FakeChat:
    id: str
    title: str
    is_dm: bool = False
    description: str = ""
    avatar_seed: str = ""
    avatar: bytes | None = None
    pinned: bool = False
    archived: bool = False
    muted: bool = False
    active: bool = True
    unread: int = 0
    draft: str = ""
    epoch: int = 1
    disappearing_secs: int = 0
    can_edit: bool = False  # a Marmot v2 group: our messages can be edited
    protocol: str = "Marmot v1"
    messages: list[MessageRow] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    reactions: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    members: dict[str, MemberRow] = field(default_factory=dict)

    def append(self, row: MessageRow) -> None:
        """Add in time order (a seeded message may be older than the newest one)."""
        if self.messages and row.created_at < self.messages[-1].created_at:
            self.messages.append(row)
            self.messages.sort(key=lambda r: (r.created_at, r.id))
            self.positions = {r.id: i for i, r in enumerate(self.messages)}
            return
        self.positions[row.id] = len(self.messages)
        self.messages.append(row)

    def extend_sorted(self, rows: list[MessageRow]) -> None:
        """Bulk-load rows already in time order (a huge chat)."""
        start = len(self.messages)
        self.messages.extend(rows)
        for i, row in enumerate(rows, start):
            self.positions[row.id] = i

    def find(self, message_id: str) -> MessageRow | None:
        pos = self.positions.get(message_id)
        return None if pos is None else self.messages[pos]

    def store(self, row: MessageRow) -> None:
        self.messages[self.positions[row.id]] = row

    def page(self, before: str | None, limit: int) -> list[MessageRow]:
        end = len(self.messages) if before is None else self.positions.get(before, 0)
        return self.messages[max(0, end - limit) : end]

    def row(self) -> ChatRow:
        chat = [m for m in self.messages if not m.system]  # as the app: previews are chat only
        last = chat[-1] if chat else None
        if last is None:
            preview = ""
        elif last.deleted:
            preview = "This message was deleted"
        else:
            text = last.text
            if not text and last.attachments:  # as the bridge says it
                first = last.attachments[0]
                text = "Photo" if first.is_image else first.filename
            if last.own:
                preview = f"You: {text}"
            elif self.is_dm:
                preview = text
            else:
                preview = f"{last.author_name}: {text}"
        return ChatRow(
            id=self.id,
            title=self.title,
            preview=preview,
            time=last.created_at if last else None,
            unread=self.unread,
            pinned=self.pinned,
            archived=self.archived,
            muted=self.muted,
            is_dm=self.is_dm,
            avatar_seed=self.avatar_seed or self.id,
            member_count=len(self.members),
            draft=self.draft,
            active=self.active,
            avatar=self.avatar,
            disappearing_secs=self.disappearing_secs,
            can_edit=self.can_edit,
        )
