"""RFC 9420 Messaging Layer Security, pure: bytes in, bytes out; no I/O."""

from __future__ import annotations

from mls.errors import DecodeError, InvalidMessage, MlsError, UnsupportedError, UsageError

__all__ = ["DecodeError", "InvalidMessage", "MlsError", "UnsupportedError", "UsageError"]
