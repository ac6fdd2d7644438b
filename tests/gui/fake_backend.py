"""An in-memory ``ui.backend.Backend`` for testing the UI layer alone.

Split over ``fake_core`` (state and test levers), ``fake_accounts`` and ``fake_chat_ops``
(the protocol's operations) to keep each file small. Tests that later run against the real
service layer through ``ui/bridge.py`` take a ``Backend`` and need nothing from here except
the levers that play the other side.
"""

from __future__ import annotations

from tests.gui.fake_accounts import AccountOps
from tests.gui.fake_chat_ops import ChatOps
from tests.gui.fake_core import fake_npub, fake_pubkey
from tests.gui.fake_media import MediaOps
from tests.gui.fake_push import PushOps

__all__ = ["FakeBackend", "fake_npub", "fake_pubkey"]


class FakeBackend(AccountOps, ChatOps, MediaOps, PushOps):
    pass
