"""Push notifications (MIP-05) over ``app.push``: the registration and the per-group view."""

from __future__ import annotations

from app.events import AppEvent
from app.push_models import PushChanged, PushStatus
from ui.bridge.core import BridgeCore, translated
from ui.views import (
    PushGroupRow,
    PushRegistrationView,
    PushSettings,
    PushSettingsChanged,
    UiEvent,
)


def push_settings(status: PushStatus) -> PushSettings:
    reg = status.registration
    view = None
    if reg is not None:
        view = PushRegistrationView(
            reg.platform, reg.server, reg.relay_hint or "", reg.token_hint, reg.shareable
        )
    groups = tuple(
        PushGroupRow(g.group_id, g.name, g.shared, g.member_tokens) for g in status.groups
    )
    return PushSettings(view, groups)


class PushOps(BridgeCore):
    @translated
    async def push_settings(self) -> PushSettings:
        """The push registration (without the token) and, per group, what is shared."""
        return push_settings(await self.session().push.status())

    @translated
    async def register_push(
        self, platform: str, token: str, server: str, relay: str
    ) -> PushSettings:
        """Register this device's token (InvalidInput if malformed); share it with all groups."""
        status = await self.session().push.register(platform, token, server, relay or None)
        return push_settings(status)

    @translated
    async def remove_push(self) -> PushSettings:
        """Forget the push registration and withdraw the token from every group."""
        return push_settings(await self.session().push.unregister())

    async def translate(self, event: AppEvent, chats: dict[str, None]) -> list[UiEvent]:
        if isinstance(event, PushChanged):
            return [PushSettingsChanged()]
        return await super().translate(event, chats)
