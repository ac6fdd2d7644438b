"""The server's pure core: one kind-1059 gift wrap in, the device tokens to push out.

Checks follow marmot.md section 7.4 (the transponder): the wrap and the seal verify, the
seal is kind 13 and signed by the rumor's author, the rumor is a kind 446 with the
``mip05-v1`` tags, its content splits into 1084-byte tokens, and each token is decrypted
with the server key. A token that does not decrypt is skipped and counted; the rest of the
trigger still goes out.

Duplicates are dropped twice over: by gift-wrap id (the same event from another relay or
after a reconnect) and by rumor id (the same trigger wrapped again). Triggers older than
``max_age`` are dropped as stale, which also bounds how long rumor ids must be remembered.
No clock and no I/O here: ``now`` is a parameter and :class:`SeenTriggers` persistence is
an optional callback.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

from marmot.errors import InvalidPushMessage
from marmot.push import Platform, PushToken, decrypt_token, parse_notification_request
from nostr.errors import NostrError
from nostr.event import Event
from nostr.keys import SecretKey
from nostr.nip59 import unwrap

DEFAULT_MAX_AGE = 1800
"""Seconds after which a trigger is stale: a push for an old message only adds noise."""
MAX_FUTURE_SKEW = 300
"""A trigger dated further ahead than this (sender clock) is refused."""
_WRAP_IDS = 20_000


@dataclass(frozen=True, slots=True)
class Notification:
    """One device to wake: what a delivery backend receives."""

    platform: Platform
    device_token: bytes = field(repr=False)
    trigger_id: str
    """The 446 rumor id; the same for every device of one trigger."""
    received_at: int
    relay_url: str


@dataclass(slots=True)
class ServerStats:
    """Counters over the server's lifetime (printed at exit, logged periodically)."""

    wraps: int = 0
    duplicate_wraps: int = 0
    duplicate_triggers: int = 0
    invalid_wraps: int = 0
    stale_triggers: int = 0
    triggers: int = 0
    tokens: int = 0
    invalid_tokens: int = 0
    duplicate_tokens: int = 0
    delivered: int = 0
    delivery_failures: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class SeenTriggers:
    """Rumor ids already handled, kept while their trigger could still be accepted.

    ``on_add(rumor_id, created_at)`` lets the caller persist each new id; ``load`` brings
    them back after a restart so a trigger is never pushed twice.
    """

    def __init__(self, window: int, *, on_add: Callable[[str, int], None] | None = None) -> None:
        self.window = window
        self._ids: dict[str, int] = {}
        self._on_add = on_add
        self._adds_since_sweep = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, rumor_id: object) -> bool:
        return rumor_id in self._ids

    def load(self, entries: Iterable[tuple[str, int]], now: int) -> None:
        for rumor_id, created_at in entries:
            if created_at >= now - self.window:
                self._ids[rumor_id] = created_at

    def add(self, rumor_id: str, created_at: int, now: int) -> bool:
        """Record ``rumor_id``; False if it was already there."""
        if rumor_id in self._ids:
            return False
        self._ids[rumor_id] = created_at
        if self._on_add is not None:
            self._on_add(rumor_id, created_at)
        self._adds_since_sweep += 1
        if self._adds_since_sweep >= 1024:  # amortised: one pass per 1024 additions
            self.sweep(now)
        return True

    def sweep(self, now: int) -> None:
        cutoff = now - self.window
        self._ids = {k: t for k, t in self._ids.items() if t >= cutoff}
        self._adds_since_sweep = 0

    def entries(self) -> list[tuple[str, int]]:
        return list(self._ids.items())


class TriggerProcessor:
    """Turns gift wraps into notifications; see the module docstring."""

    def __init__(
        self,
        secret: SecretKey,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        seen: SeenTriggers | None = None,
        stats: ServerStats | None = None,
    ) -> None:
        self._secret = secret
        self.max_age = max_age
        self.seen = seen if seen is not None else SeenTriggers(max_age + MAX_FUTURE_SKEW)
        self.stats = stats if stats is not None else ServerStats()
        self._wrap_ids: OrderedDict[str, None] = OrderedDict()

    def process(self, wrap: Event, relay_url: str, now: int) -> list[Notification]:
        """The notifications ``wrap`` asks for (empty when invalid, stale or seen)."""
        self.stats.wraps += 1
        if not self._first_wrap(wrap.id):
            self.stats.duplicate_wraps += 1
            return []
        try:
            rumor_id, created_at, tokens = self._open(wrap)
        except InvalidPushMessage:
            self.stats.invalid_wraps += 1
            return []
        if created_at < now - self.max_age or created_at > now + MAX_FUTURE_SKEW:
            self.stats.stale_triggers += 1
            return []
        if not self.seen.add(rumor_id, created_at, now):
            self.stats.duplicate_triggers += 1
            return []
        self.stats.triggers += 1
        return self._decrypt_all(tokens, rumor_id, relay_url, now)

    def _first_wrap(self, wrap_id: str) -> bool:
        if wrap_id in self._wrap_ids:
            self._wrap_ids.move_to_end(wrap_id)
            return False
        self._wrap_ids[wrap_id] = None
        if len(self._wrap_ids) > _WRAP_IDS:
            self._wrap_ids.popitem(last=False)
        return True

    def _open(self, wrap: Event) -> tuple[str, int, tuple[bytes, ...]]:
        # unwrap verifies the wrap and the seal, that the seal is kind 13 and that it was
        # signed by the rumor's author; the parser checks kind 446, its tags and content.
        try:
            gift = unwrap(wrap, self._secret)
        except NostrError as exc:
            raise InvalidPushMessage(f"gift wrap does not open: {exc}") from None
        tokens = parse_notification_request(gift.rumor, require_encoding=False)
        return gift.rumor.id, gift.rumor.created_at, tokens

    def _decrypt_all(
        self, tokens: tuple[bytes, ...], rumor_id: str, relay_url: str, now: int
    ) -> list[Notification]:
        out: list[Notification] = []
        unique: set[PushToken] = set()
        for encrypted in tokens:
            self.stats.tokens += 1
            try:
                token = decrypt_token(self._secret, encrypted)
            except InvalidPushMessage:
                self.stats.invalid_tokens += 1
                continue
            if token in unique:
                self.stats.duplicate_tokens += 1
                continue
            unique.add(token)
            out.append(Notification(token.platform, token.device_token, rumor_id, now, relay_url))
        return out
