"""NIP-01/NIP-42 messages between client and relay, as typed values.

Client to relay: ``EVENT``, ``REQ``, ``CLOSE``, ``AUTH``. Relay to client: ``EVENT``,
``OK``, ``EOSE``, ``CLOSED``, ``NOTICE``, ``AUTH``. Parsing rejects any other shape with
``DecodeError``; it never indexes blindly into a list. Parsed events are *not* verified.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from nostr.errors import DecodeError, UsageError
from nostr.event import Event, compact_json
from nostr.filters import Filter

MAX_SUBSCRIPTION_ID = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")


class MachineReadablePrefix(Enum):
    """The reason prefix of ``OK false`` and ``CLOSED`` messages (NIP-01, NIP-42)."""

    DUPLICATE = "duplicate"
    POW = "pow"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate-limited"
    INVALID = "invalid"
    RESTRICTED = "restricted"
    MUTE = "mute"
    ERROR = "error"
    AUTH_REQUIRED = "auth-required"


_PREFIXES = {p.value: p for p in MachineReadablePrefix}


def parse_prefix(message: str) -> MachineReadablePrefix | None:
    head, sep, _ = message.partition(":")
    return _PREFIXES.get(head.strip()) if sep else None


def _check_subscription_id(subscription_id: str) -> None:
    if not 0 < len(subscription_id) <= MAX_SUBSCRIPTION_ID:
        raise UsageError("a subscription id must have 1 to 64 characters")


# --- client to relay -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """``["EVENT", <event>]``: publish an event."""

    event: Event

    def to_json(self) -> str:
        return compact_json(["EVENT", self.event.to_dict()])


@dataclass(frozen=True, slots=True)
class ClientReq:
    """``["REQ", <subscription_id>, <filter>, ...]``: open or replace a subscription."""

    subscription_id: str
    filters: tuple[Filter, ...]

    def __post_init__(self) -> None:
        _check_subscription_id(self.subscription_id)
        if not self.filters:
            raise UsageError("a REQ needs at least one filter")

    def to_json(self) -> str:
        return compact_json(["REQ", self.subscription_id, *(f.to_dict() for f in self.filters)])


@dataclass(frozen=True, slots=True)
class ClientClose:
    """``["CLOSE", <subscription_id>]``."""

    subscription_id: str

    def to_json(self) -> str:
        return compact_json(["CLOSE", self.subscription_id])


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """``["AUTH", <kind 22242 event>]`` (NIP-42)."""

    event: Event

    def to_json(self) -> str:
        return compact_json(["AUTH", self.event.to_dict()])


ClientMessage = ClientEvent | ClientReq | ClientClose | ClientAuth

# --- relay to client -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayEvent:
    """``["EVENT", <subscription_id>, <event>]``; the event is not yet verified."""

    subscription_id: str
    event: Event

    def to_json(self) -> str:
        return compact_json(["EVENT", self.subscription_id, self.event.to_dict()])


@dataclass(frozen=True, slots=True)
class RelayOk:
    """``["OK", <event_id>, <accepted>, <message>]``."""

    event_id: str
    accepted: bool
    message: str = ""

    @property
    def prefix(self) -> MachineReadablePrefix | None:
        return parse_prefix(self.message)

    def to_json(self) -> str:
        return compact_json(["OK", self.event_id, self.accepted, self.message])


@dataclass(frozen=True, slots=True)
class RelayEose:
    """``["EOSE", <subscription_id>]``: stored events done, live ones follow."""

    subscription_id: str

    def to_json(self) -> str:
        return compact_json(["EOSE", self.subscription_id])


@dataclass(frozen=True, slots=True)
class RelayClosed:
    """``["CLOSED", <subscription_id>, <message>]``: the relay ended a subscription."""

    subscription_id: str
    message: str = ""

    @property
    def prefix(self) -> MachineReadablePrefix | None:
        return parse_prefix(self.message)

    def to_json(self) -> str:
        return compact_json(["CLOSED", self.subscription_id, self.message])


@dataclass(frozen=True, slots=True)
class RelayNotice:
    """``["NOTICE", <message>]``: human-readable, never acted upon."""

    message: str

    def to_json(self) -> str:
        return compact_json(["NOTICE", self.message])


@dataclass(frozen=True, slots=True)
class RelayAuth:
    """``["AUTH", <challenge>]`` (NIP-42)."""

    challenge: str

    def to_json(self) -> str:
        return compact_json(["AUTH", self.challenge])


RelayMessage = RelayEvent | RelayOk | RelayEose | RelayClosed | RelayNotice | RelayAuth


def _load_array(text: str | bytes) -> list[Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("message is not valid JSON") from exc
    if type(data) is not list or not data or type(data[0]) is not str:
        raise DecodeError("message must be a JSON array starting with a string")
    return data


def _str(data: list[Any], index: int, what: str, default: str | None = None) -> str:
    if index >= len(data):
        if default is not None:
            return default
        raise DecodeError(f"{data[0]} message lacks its {what}")
    value = data[index]
    if type(value) is not str:
        raise DecodeError(f"{data[0]} {what} must be a string")
    return value


def _event_object(data: list[Any], index: int) -> Event:
    if index >= len(data) or type(data[index]) is not dict:
        raise DecodeError(f"{data[0]} message lacks its event object")
    return Event.from_dict(data[index])


def _parse_ok(data: list[Any]) -> RelayOk:
    event_id = _str(data, 1, "event id")
    if not _HEX64.fullmatch(event_id):
        raise DecodeError("OK event id must be 64 lowercase hex characters")
    if len(data) < 3 or type(data[2]) is not bool:
        raise DecodeError("OK status must be a boolean")
    # Some relays omit the message; NIP-01 makes it mandatory but harmless to default.
    return RelayOk(event_id, data[2], _str(data, 3, "message", default=""))


def parse_relay_message(text: str | bytes) -> RelayMessage:
    """Parse one relay-to-client message; raise ``DecodeError`` on any malformation."""
    data = _load_array(text)
    tag = data[0]
    if tag == "EVENT":
        return RelayEvent(_str(data, 1, "subscription id"), _event_object(data, 2))
    if tag == "OK":
        return _parse_ok(data)
    if tag == "EOSE":
        return RelayEose(_str(data, 1, "subscription id"))
    if tag == "CLOSED":
        return RelayClosed(_str(data, 1, "subscription id"), _str(data, 2, "message", ""))
    if tag == "NOTICE":
        return RelayNotice(_str(data, 1, "message"))
    if tag == "AUTH":
        return RelayAuth(_str(data, 1, "challenge"))
    raise DecodeError(f"unknown relay message type {tag[:32]!r}")


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse one client-to-relay message (used by test relays and tools)."""
    data = _load_array(text)
    tag = data[0]
    if tag == "EVENT":
        return ClientEvent(_event_object(data, 1))
    if tag == "AUTH":
        return ClientAuth(_event_object(data, 1))
    if tag == "CLOSE":
        return ClientClose(_str(data, 1, "subscription id"))
    if tag == "REQ":
        subscription_id = _str(data, 1, "subscription id")
        filters = tuple(Filter.from_dict(f) for f in data[2:])
        try:
            return ClientReq(subscription_id, filters)
        except UsageError as exc:
            raise DecodeError(str(exc)) from exc
    raise DecodeError(f"unknown client message type {tag[:32]!r}")
