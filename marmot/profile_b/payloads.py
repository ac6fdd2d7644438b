"""Profile B app payloads: the unsigned Nostr-shaped events inside MLS application messages.

Encoding (spec foundation/application-messages.md, MDK ``MarmotAppEvent``): one UTF-8 JSON
object with exactly ``id``, ``pubkey``, ``created_at``, ``kind``, ``tags``, ``content``;
a ``sig``, any other member or a repeated key is refused, and so is an ``id`` that is not
the NIP-01 id of the rest. ``pubkey`` must be the MLS sender's account.

Kinds: chat 9, reaction 7, deletion 5, edit 1009 (one ``e`` tag naming the edited event;
honoured only from the original's author, newest ``created_at`` wins), group system row
1210 (``content`` = JSON ``{"v":1,"system_type":..,"text":..,"data":{..}}``, a
``["system", type]`` tag). System rows are synthesized locally from applied commits, not
trusted from the wire; :func:`system_row` builds one with MDK's deterministic id, so two
clients applying the same commit show the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from marmot.profile_b.errors import InvalidPayload
from nostr.errors import NostrError
from nostr.event import UnsignedEvent, compact_json

__all__ = [
    "SYSTEM_TEXT",
    "PayloadKind",
    "SystemRow",
    "SystemType",
    "decode_app_event",
    "encode_app_event",
    "latest_edit",
    "system_row",
]

_MEMBERS = ("id", "pubkey", "created_at", "kind", "tags", "content")


class PayloadKind(IntEnum):
    DELETION = 5
    REACTION = 7
    CHAT = 9
    EDIT = 1009
    GROUP_SYSTEM = 1210


class SystemType(StrEnum):
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    MEMBER_LEFT = "member_left"
    ADMIN_ADDED = "admin_added"
    ADMIN_REMOVED = "admin_removed"
    GROUP_RENAMED = "group_renamed"
    GROUP_AVATAR_CHANGED = "group_avatar_changed"
    DISAPPEARING_TIMER_CHANGED = "disappearing_timer_changed"
    GROUP_DISBANDED = "group_disbanded"


SYSTEM_TEXT = {
    SystemType.MEMBER_ADDED: "Member added",
    SystemType.MEMBER_REMOVED: "Member removed",
    SystemType.MEMBER_LEFT: "Member left",
    SystemType.ADMIN_ADDED: "Admin added",
    SystemType.ADMIN_REMOVED: "Admin removed",
    SystemType.GROUP_RENAMED: "Group renamed",
    SystemType.GROUP_AVATAR_CHANGED: "Group avatar changed",
    SystemType.DISAPPEARING_TIMER_CHANGED: "Disappearing timer changed",
    SystemType.GROUP_DISBANDED: "Group disbanded",
}
"""The fallback text MDK writes (clients render from the type and data instead)."""


def encode_app_event(event: UnsignedEvent) -> bytes:
    return event.to_json().encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise InvalidPayload("app payload JSON repeats a key")
    return dict(pairs)


def decode_app_event(plaintext: bytes, sender_account: bytes) -> UnsignedEvent:
    """Parse and check an app payload of the MLS sender ``sender_account`` (32 bytes)."""
    try:
        data = json.loads(plaintext.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidPayload):
            raise
        raise InvalidPayload("app payload is not UTF-8 JSON") from None
    if type(data) is not dict:
        raise InvalidPayload("app payload is not a JSON object")
    if "sig" in data:
        raise InvalidPayload("an app payload must not be signed")
    if set(data) != set(_MEMBERS):
        raise InvalidPayload(f"app payload members must be exactly {', '.join(_MEMBERS)}")
    try:
        event = UnsignedEvent.from_dict(data)
    except NostrError as exc:
        raise InvalidPayload(f"invalid app payload: {exc}") from None
    if event.pubkey != sender_account.hex():
        raise InvalidPayload("app payload author is not the MLS sender", event_id=event.id)
    _check_kind(event)
    return event


def _check_kind(event: UnsignedEvent) -> None:
    if event.kind in (PayloadKind.REACTION, PayloadKind.DELETION) and not event.tag_values("e"):
        raise InvalidPayload(f"a kind {event.kind} payload needs an e tag", event_id=event.id)
    if event.kind == PayloadKind.EDIT:
        e_tags = [t for t in event.tags if t and t[0] == "e"]
        if len(e_tags) != 1 or len(e_tags[0]) < 2:
            raise InvalidPayload("an edit names exactly one edited event", event_id=event.id)


def latest_edit(original: UnsignedEvent, edits: Iterable[UnsignedEvent]) -> UnsignedEvent | None:
    """The edit to show over ``original``: of the edits naming it by their author, the one
    with the newest ``created_at`` (ties: the larger id, so every client picks the same)."""
    mine = [
        e
        for e in edits
        if e.kind == PayloadKind.EDIT
        and e.pubkey == original.pubkey
        and e.tag_values("e")[:1] == [original.id]
    ]
    return max(mine, key=lambda e: (e.created_at, e.id), default=None)


@dataclass(frozen=True, slots=True)
class SystemRow:
    """A locally synthesized kind 1210 row for one applied group-state change."""

    message_id: str
    sender: str  # the committer's account hex, "" when not attributable
    system_type: SystemType
    content: str
    tags: tuple[tuple[str, ...], ...]
    epoch: int


def _canonical_id(
    pubkey: str, created_at: int, kind: int, tags: Sequence[Sequence[str]], content: str
) -> str:
    # NIP-01 preimage, but the reference feeds it values (an empty pubkey, the epoch as the
    # time) that a Nostr event would refuse, so this does not go through UnsignedEvent.
    preimage = compact_json([0, pubkey, created_at, kind, [list(t) for t in tags], content])
    return hashlib.sha256(preimage.encode()).hexdigest()


def system_row(
    group_id: bytes,
    epoch: int,
    actor: bytes | None,
    system_type: SystemType,
    *,
    subject: bytes | None = None,
    name: str | None = None,
    old_name: str | None = None,
    old_retention_secs: int | None = None,
    new_retention_secs: int | None = None,
) -> SystemRow:
    """The row MDK derives for a change that reached ``epoch`` (same id, content and tag).

    ``group_id`` is the MLS group id. A disband needs an authenticated actor.
    """
    if system_type is SystemType.GROUP_DISBANDED and actor is None:
        raise InvalidPayload("a group_disbanded row needs an authenticated actor")
    data: dict[str, Any] = {}
    if actor is not None:
        data["actor"] = actor.hex()
    if subject is not None:
        data["subject"] = subject.hex()
    if name is not None:
        data["name"] = name
    if old_name is not None:
        data["old_name"] = old_name
    if old_retention_secs is not None:
        data["old_retention_seconds"] = old_retention_secs
    if new_retention_secs is not None:
        data["new_retention_seconds"] = new_retention_secs
    body: dict[str, Any] = {
        "v": 1,
        "system_type": str(system_type),
        "text": SYSTEM_TEXT[system_type],
    }
    if data:
        body["data"] = dict(sorted(data.items()))  # serde_json's map is ordered by key
    content = compact_json(body)
    tags = (("system", str(system_type)),)
    sender = "" if actor is None else actor.hex()
    message_id = _canonical_id(
        sender, epoch, PayloadKind.GROUP_SYSTEM, tags, f"{group_id.hex()}\x1f{content}"
    )
    return SystemRow(message_id, sender, system_type, content, tags, epoch)


def parse_system_content(content: str) -> tuple[SystemType | None, dict[str, Any]]:
    """``(system_type, data)`` of a 1210 content; an unknown type reads as None (shown as
    its fallback text), anything that is not the v1 shape is refused."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        raise InvalidPayload("system row content is not JSON") from None
    if type(body) is not dict or body.get("v") != 1 or type(body.get("system_type")) is not str:
        raise InvalidPayload("system row content is not a v1 system event")
    data = body.get("data", {})
    if type(data) is not dict:
        raise InvalidPayload("system row data is not an object")
    try:
        kind: SystemType | None = SystemType(body["system_type"])
    except ValueError:
        kind = None
    return kind, data
