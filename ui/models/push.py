"""The groups of the notifications dialog: is our token shared there, whose do we hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from ui.format import plural
from ui.models.keyed import KeyedListModel
from ui.models.roles import ItemRole
from ui.views import PushGroupRow


def _subtitle(row: PushGroupRow) -> str:
    if not row.member_tokens:
        return "No member shared a device token"
    return f"Your messages wake {plural(row.member_tokens, 'member device')}"


class PushGroupListModel(KeyedListModel[PushGroupRow]):
    getters: ClassVar[Mapping[int, Callable[[PushGroupRow], object]]] = {
        ItemRole.TITLE: lambda r: r.title or "Direct chat",
        ItemRole.SUBTITLE: _subtitle,
        ItemRole.AVATAR_SEED: lambda r: r.chat_id,
        ItemRole.BADGE: lambda r: "Shared" if r.shared else "",
    }

    def key(self, row: PushGroupRow) -> str:
        return row.chat_id
