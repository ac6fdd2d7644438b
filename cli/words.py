"""What the CLI says in words: a group's protocol, the group's own changes (its timeline
rows: ``app.timeline``) and edited messages.

The sentences themselves are `app.words`, shared with the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app import timeline
from app.models import GroupInfo, MessageInfo, to_jsonable
from app.words import change_text, protocol_name


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
