"""The real backend: ``ui.backend.Backend`` implemented over the ``app`` services.

This package is the only part of ``ui`` that imports ``app`` (architecture section 4.2).
``Bridge(services)`` is built by ``main.py``; ``await bridge.start()`` serves the embedded
relay when needed, ``await bridge.close()`` stops everything gracefully.
"""

from __future__ import annotations

from ui.bridge.accounts import AccountOps
from ui.bridge.chats import ChatOps
from ui.bridge.groups import GroupOps
from ui.bridge.media import MediaOps
from ui.bridge.push import PushOps


class Bridge(MediaOps, PushOps, AccountOps, ChatOps, GroupOps):
    """Accounts, chats, groups and events of the real service layer, as the UI sees them."""


__all__ = ["Bridge"]
