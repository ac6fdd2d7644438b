"""What the CLI says in words: a group's protocol, the group's own changes (its timeline
rows: ``app.timeline``) and edited messages.

The window words the same things in ``ui.bridge.convert``; the two front ends may not
import each other, so each keeps its few sentences (the same ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app import timeline
from app.dm.tree import ADMINS, DISBANDED, PICTURE, RETENTION  # kinds only Marmot v2 has
from app.models import GroupInfo, MessageInfo, to_jsonable

PROTOCOLS = {"mip": "Marmot v1", "darkmatter": "Marmot v2 (Dark Matter)"}

_CHANGES = {
    timeline.RENAMED: "{actor} renamed the group to “{value}”",
    timeline.DESCRIBED: "{actor} changed the group description",
    timeline.ADDED: "{actor} added {subject}",
    timeline.REMOVED: "{actor} removed {subject}",
    timeline.LEFT: "{actor} left",
    timeline.JOINED: "{actor} joined",
    DISBANDED: "{actor} closed the group",
}
_ADMINS = {
    "granted": "{actor} made {subject} an admin",
    "revoked": "{actor} took admin rights from {subject}",
}


def protocol_name(profile: str) -> str:
    return PROTOCOLS.get(profile, f"Marmot ({profile})" if profile else "")


def group(info: GroupInfo) -> dict[str, Any]:
    """A group as the CLI prints it: every field, and its protocol in words."""
    out: dict[str, Any] = to_jsonable(info)
    out["protocol"] = protocol_name(info.profile)
    return out


def message(info: MessageInfo, names: Mapping[str, str], me: str) -> dict[str, Any]:
    """A message as the CLI prints it: ``edited`` says whether ``content`` is an edit's
    text; a timeline row (kind -1) also says what changed, as ``text``."""
    out: dict[str, Any] = to_jsonable(info)
    out["edited"] = info.edited_at is not None and not info.deleted
    if info.kind == timeline.TIMELINE:
        change = timeline.parse(None, info.content, info.author)
        out["text"] = "" if change is None else change_text(change, names, me)
    return out


def _who(pubkey: str, names: Mapping[str, str], me: str, *, start: bool) -> str:
    if pubkey == me:
        return "You" if start else "you"
    return names.get(pubkey) or pubkey[:8] + "…"


def _timer(value: str) -> str:
    secs = int(value) if value.isdigit() else 0
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size and secs % size == 0:
            n = secs // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{secs} seconds"


def change_text(change: timeline.Change, names: Mapping[str, str], me: str) -> str:
    """One change of the group in words ("Bob added Carol")."""
    actor = _who(change.actor, names, me, start=True)
    subject = _who(change.subject, names, me, start=False) if change.subject else ""
    if change.what in (timeline.TIMER, RETENTION):
        if not change.value or change.value == "0":
            return f"{actor} turned off disappearing messages"
        return f"{actor} set disappearing messages to {_timer(change.value)}"
    if change.what == PICTURE:  # set, changed or removed: the row does not say which
        return f"{actor} changed the group picture"
    template = _CHANGES.get(change.what, "{actor} changed the group")
    if change.what == ADMINS:
        template = _ADMINS.get(change.value, "{actor} changed who the admins are")
    return template.format(actor=actor, subject=subject, value=change.value)
