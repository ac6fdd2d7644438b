"""A group's own history in its timeline: renamed, members added or removed, someone joined
or left, the disappearing-message timer changed.

Each change is stored as a row of the messages table with a local kind (``TIMELINE``, -1):
rumor kinds are 0..65535 (``nostr.event``), so no one can send one, and the rows page, sort
and delete with the chat they belong to. They are read already (no unread badge) and carry
JSON, not text: the front end words them. Chat-only readers (the CLI's ``messages``, search,
previews) never see them.

Who is "invited, not yet joined" follows from the same rows: someone added whose joining
was not seen since (their post-join self-update, or anything they wrote).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.models import MessageInfo
from storage.repos import messages as messages_repo
from storage.rows import DeliveryStatus, Message, NewMessage
from storage.types import Connection

TIMELINE = -1
CHAT = 9
RENAMED, DESCRIBED, ADDED, REMOVED, LEFT, JOINED, TIMER = (
    "renamed",
    "described",
    "added",
    "removed",
    "left",
    "joined",
    "disappearing",
)


@dataclass(frozen=True, slots=True)
class Change:
    what: str
    actor: str  # who made the change (hex pubkey)
    subject: str = ""  # whom it concerns (added, removed), else ""
    value: str = ""  # the new name, description or timer (seconds; "" when off)

    def to_json(self) -> str:
        data = {"change": self.what, "subject": self.subject, "value": self.value}
        return json.dumps(data, separators=(",", ":"))


def parse(message: Message | None, content: str = "", author: str = "") -> Change | None:
    """A stored timeline row back as a change (None for anything else or bad JSON)."""
    if message is not None:
        if message.kind != TIMELINE:
            return None
        content, author = message.content, message.author
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("change"), str):
        return None
    subject, value = data.get("subject", ""), data.get("value", "")
    return Change(data["change"], author, str(subject or ""), str(value or ""))


@dataclass(frozen=True, slots=True)
class Before:
    """What a commit may change, as it was before."""

    name: str
    description: str
    members: tuple[str, ...]
    timer: int | None = None


def changes_of(
    before: Before,
    after: Before,
    committer: str,
    invited: Iterable[str],
    *,
    me: str = "",
    leaving: Iterable[str] = (),
) -> list[Change]:
    """The changes one commit made, in the order people read them."""
    out: list[Change] = []
    if after.name != before.name:
        out.append(Change(RENAMED, committer, value=after.name))
    if after.description != before.description:
        out.append(Change(DESCRIBED, committer, value=after.description))
    if after.timer != before.timer:
        out.append(Change(TIMER, committer, value=str(after.timer or "")))
    old, new = set(before.members), set(after.members)
    out.extend(Change(ADDED, committer, p) for p in sorted(new - old))
    asked = set(leaving)  # their "left" row came with their request
    for person in sorted(old - new):
        if person == committer:
            out.append(Change(LEFT, person))
        elif person not in asked:
            out.append(Change(REMOVED, committer, person))
    if not out and committer in set(invited) and committer != me:
        out.append(Change(JOINED, committer))  # their first commit: the post-join update
    return out


def _rumor_id(anchor: str, index: int, change: Change) -> str:
    """Stable per commit and change, so a commit seen twice records nothing twice."""
    seed = f"timeline:{anchor}:{index}:{change.what}:{change.subject}"
    return hashlib.sha256(seed.encode()).hexdigest()


def record(
    conn: Connection, gid: bytes, changes: Sequence[Change], anchor: str, *, at: int, now: int
) -> list[int]:
    """Store the rows (one transaction with the caller's other writes); their seqs."""
    seqs = []
    for index, change in enumerate(changes):
        row = NewMessage(
            gid,
            _rumor_id(anchor, index, change),
            TIMELINE,
            change.actor,
            change.to_json(),
            at,
            status=DeliveryStatus.RECEIVED,
            is_read=True,
        )
        seq = messages_repo.insert(conn, row, now=now)
        if seq is not None:
            seqs.append(seq)
    return seqs


def invited(conn: Connection, gid: bytes) -> set[str]:
    """Members added whose joining we have not seen yet."""
    waiting: dict[str, int] = {}
    for message in messages_repo.of_kind(conn, gid, TIMELINE):
        change = parse(message)
        if change is not None and change.what == ADDED:
            waiting[change.subject] = message.seq
        elif change is not None and change.what in (JOINED, REMOVED, LEFT):
            waiting.pop(change.subject or change.actor, None)
    # Anyone who wrote since they were added is in.
    return {p for p, seq in waiting.items() if not messages_repo.wrote_since(conn, gid, p, seq)}


def leaving(conn: Connection, gid: bytes) -> set[str]:
    """Members whose latest change is that they left (asked to, not yet committed)."""
    last: dict[str, str] = {}
    for message in messages_repo.of_kind(conn, gid, TIMELINE):
        change = parse(message)
        if change is not None:
            last[change.subject or change.actor] = change.what
    return {who for who, what in last.items() if what == LEFT}


def info_of(message: Message, group_id: str, me: str) -> MessageInfo:
    """The row as the front ends see messages (kind ``TIMELINE``, JSON content)."""
    return MessageInfo(
        message.rumor_id,
        group_id,
        message.author,
        TIMELINE,
        message.content,
        message.created_at,
        "received",
        own=message.author == me,
        is_read=True,
        seq=message.seq,
    )
