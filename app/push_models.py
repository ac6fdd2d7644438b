"""Views and events of MIP-05 push notifications for the front ends (no device token)."""

from __future__ import annotations

from dataclasses import dataclass

from app.events import AppEvent


@dataclass(frozen=True, slots=True)
class PushRegistrationInfo:
    platform: str
    """``apns`` or ``fcm``."""
    server: str
    """The notification server's public key (hex)."""
    relay_hint: str | None
    """Where the server's inbox relay list is found; without it nothing is shared."""
    token_hint: str
    """The first and last characters of the device token, to tell registrations apart."""
    updated_at: int
    shareable: bool
    """A relay hint is set: only then is the token shared with groups (White Noise)."""


@dataclass(frozen=True, slots=True)
class PushGroupInfo:
    group_id: str
    name: str
    shared: bool
    """Our token was shared with this group (447)."""
    member_tokens: int
    """Tokens of other members' devices we would notify."""


@dataclass(frozen=True, slots=True)
class PushStatus:
    registration: PushRegistrationInfo | None
    groups: tuple[PushGroupInfo, ...]


@dataclass(frozen=True, slots=True)
class PushChanged(AppEvent):
    """The registration, or what is shared or cached in some group, changed."""

    group_id: str | None = None
