"""Push notification operations of the in-memory backend, plus a lever for group gossip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.gui.fake_core import FakeCore
from ui.errors import InvalidInput
from ui.views import PushGroupRow, PushRegistrationView, PushSettings, PushSettingsChanged


@dataclass
class FakePush:
    registration: PushRegistrationView | None = None
    member_tokens: dict[str, int] = field(default_factory=dict)


class PushOps(FakeCore):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.push_states: dict[str, FakePush] = {}

    def _push(self) -> FakePush:
        return self.push_states.setdefault(self.me.pubkey, FakePush())

    def _push_settings(self) -> PushSettings:
        state = self._push()
        shared = state.registration is not None and state.registration.shareable
        rows = tuple(
            PushGroupRow(chat.id, chat.title, shared, state.member_tokens.get(chat.id, 0))
            for chat in self.me.chats.values()
        )
        return PushSettings(state.registration, rows)

    def members_share_tokens(self, chat_id: str, count: int) -> None:
        """Lever: ``count`` members' tokens of a chat arrived (their 447s or a 448)."""
        self._push().member_tokens[chat_id] = count
        self.emit(PushSettingsChanged())

    async def push_settings(self) -> PushSettings:
        await self._enter("push_settings")
        return self._push_settings()

    async def register_push(
        self, platform: str, token: str, server: str, relay: str
    ) -> PushSettings:
        await self._enter("register_push", platform, token, server, relay)
        if platform not in ("apns", "fcm"):
            raise InvalidInput("The platform is APNs or FCM.", "platform")
        if platform == "apns" and any(c not in "0123456789abcdef" for c in token.lower()):
            raise InvalidInput("An APNs token must be hex.", "token")
        if len(server) != 64 and not server.startswith("npub1"):
            raise InvalidInput("The server is a public key: 64 hex characters or an npub.")
        if relay and not relay.startswith(("ws://", "wss://")):
            raise InvalidInput("A relay address starts with wss:// or ws://.", "relay")
        hint = f"{token[:4]}…{token[-4:]}" if len(token) > 8 else "…"
        self._push().registration = PushRegistrationView(platform, server, relay, hint, bool(relay))
        self.emit(PushSettingsChanged())
        return self._push_settings()

    async def remove_push(self) -> PushSettings:
        await self._enter("remove_push")
        state = self._push()
        state.registration = None
        self.emit(PushSettingsChanged())
        return self._push_settings()
