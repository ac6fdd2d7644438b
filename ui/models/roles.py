"""Item roles for every list model, numbered from ``Qt.UserRole``.

The shared ``ItemRole`` block lets one delegate paint rows of several models (the chat list
and the search results; members, contacts, invites, devices and relays). ``roleNames`` maps
them to lower-case names so the models could also back QML.
"""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QByteArray, Qt

_USER = int(Qt.ItemDataRole.UserRole)


class ItemRole(IntEnum):
    ROW = _USER + 1  # the frozen view dataclass itself
    KEY = _USER + 2  # its id (chat id, pubkey, url, ...)
    TITLE = _USER + 3
    SUBTITLE = _USER + 4
    AVATAR = _USER + 5  # picture bytes or None
    AVATAR_SEED = _USER + 6  # picks the initials colour
    BADGE = _USER + 7  # short tag such as "Admin" or "This device"
    TIME = _USER + 8  # Unix seconds or None
    UNREAD = _USER + 9
    PINNED = _USER + 10
    MUTED = _USER + 11
    ARCHIVED = _USER + 12
    STATUS = _USER + 13  # a RelayStatus for relays
    DRAFT = _USER + 14


class MessageRole(IntEnum):
    ROW = _USER + 1
    KEY = _USER + 2
    # Derived from the neighbours: a day separator above this row; the first message of a run
    # by one author (more space above); the author's name on it (others' messages in groups).
    SHOW_DAY = _USER + 40
    RUN_START = _USER + 41
    SHOW_AUTHOR = _USER + 42
    # The chat is a 1:1 whose other person has not joined: nothing of ours reached them yet.
    WAITING = _USER + 43


def role_names(roles: type[IntEnum]) -> dict[int, QByteArray]:
    return {int(r): QByteArray(r.name.lower().encode()) for r in roles}
