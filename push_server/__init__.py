"""Burrow's MIP-05 notification server: ``python -m push_server --help``.

A separate program from the messenger. It owns a Nostr key, reads kind-446 notification
requests gift-wrapped to that key from its inbox relays, decrypts the device tokens inside
(marmot.md section 7) and hands each ``(platform, device token)`` to a delivery backend.
"""

from __future__ import annotations

from push_server.backends import DeliveryBackend, FileLogBackend, WebhookBackend
from push_server.config import ConfigError, ServerConfig
from push_server.processor import Notification, ServerStats, TriggerProcessor
from push_server.server import NotificationServer

__all__ = [
    "ConfigError",
    "DeliveryBackend",
    "FileLogBackend",
    "Notification",
    "NotificationServer",
    "ServerConfig",
    "ServerStats",
    "TriggerProcessor",
    "WebhookBackend",
]
