"""What both front ends say in words: a group's protocol and the group's own changes (its
timeline rows: `app.timeline`), so the window and the CLI say the same sentences."""

from __future__ import annotations

from collections.abc import Mapping

from app import timeline
from app.dm.tree import ADMINS, DISBANDED, PICTURE, RETENTION  # kinds only Marmot v2 has

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
    """A group profile in words; never a blank for a profile this version does not know."""
    return PROTOCOLS.get(profile, f"Marmot ({profile})" if profile else "")


def short_name(pubkey: str) -> str:
    return pubkey[:8] + "…"


def timer_text(secs: int) -> str:
    """A disappearing timer in words: "1 hour", "8 hours", "1 week", "90 seconds"."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size and secs % size == 0:
            n = secs // size
            return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
    return f"{secs} seconds"


def _who(pubkey: str, names: Mapping[str, str], me: str, *, start: bool) -> str:
    if pubkey == me:
        return "You" if start else "you"
    return names.get(pubkey) or short_name(pubkey)


def change_text(change: timeline.Change, names: Mapping[str, str], me: str) -> str:
    """One change of the group in words ("Bob added Carol")."""
    actor = _who(change.actor, names, me, start=True)
    subject = _who(change.subject, names, me, start=False) if change.subject else ""
    if change.what in (timeline.TIMER, RETENTION):  # the same timer, by either protocol
        if not change.value or change.value == "0":
            return f"{actor} turned off disappearing messages"
        secs = int(change.value) if change.value.isdigit() else 0
        return f"{actor} set disappearing messages to {timer_text(secs)}"
    if change.what == PICTURE:  # set, changed or removed: the row does not say which
        return f"{actor} changed the group picture"
    template = _CHANGES.get(change.what, "{actor} changed the group")
    if change.what == ADMINS:
        template = _ADMINS.get(change.value, "{actor} changed who the admins are")
    return template.format(actor=actor, subject=subject, value=change.value)
