"""RelaySession: the sans-I/O protocol state of one relay connection.

The driver feeds it text frames with ``receive(text, now)`` and gets typed events back;
every command (``subscribe``, ``publish``, ``authenticate`` ...) queues frames that the
driver drains with ``data_to_send()``. Subscriptions live here, so after a reconnect
``connection_made(now)`` replays them with ``since = cursor - since_margin`` where the
cursor is the newest ``created_at`` seen (or the time of EOSE, whichever is later).

Relays cap each filter's stored events silently, so a filter whose stored phase looks full
(``page_threshold`` events or more, see ``nostr.paging``) is paged backwards with ``until``
on a second, internal REQ after EOSE, one page at a time while live events keep flowing.
Its events are checked like any other and reported under the subscription's own id, and
``EoseReceived`` waits until the last page is in. A page or a stored phase cut short by a
disconnect is asked for again after the next EOSE.

NIP-42: the session asks its driver to authenticate (``AuthChallenged``) only once the
relay refused something with ``auth-required`` and a challenge is known; subscriptions
refused that way are re-sent after ``AuthSucceeded``.

Every incoming event is checked before it is reported: it must belong to an open
subscription, match that subscription's filters, and carry a valid id and signature.
Anything else is dropped and counted in ``stats``; nothing a relay sends can raise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from enum import Enum

from nostr.errors import DecodeError, InvalidEvent, RelayUnavailable, UsageError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.messages import (
    ClientAuth,
    ClientClose,
    ClientEvent,
    ClientReq,
    MachineReadablePrefix,
    RelayAuth,
    RelayClosed,
    RelayEose,
    RelayEvent,
    RelayMessage,
    RelayOk,
    parse_relay_message,
)
from nostr.paging import DEFAULT_PAGE_THRESHOLD, Page, SubscriptionState
from nostr.session_events import (
    AuthChallenged,
    AuthFailed,
    AuthSucceeded,
    DropReason,
    EoseReceived,
    EventReceived,
    MessageDropped,
    NoticeReceived,
    OkReceived,
    SessionEvent,
    SessionStats,
    SubscriptionClosed,
)

DEFAULT_MAX_MESSAGE_SIZE = 1 << 20
DEFAULT_SINCE_MARGIN = 300
_AUTH = MachineReadablePrefix.AUTH_REQUIRED
_MAX_AUTH_RETRIES = 1


class AuthState(Enum):
    NONE = "none"
    CHALLENGED = "challenged"  # AuthChallenged reported; waiting for authenticate()
    PENDING = "pending"
    AUTHENTICATED = "authenticated"
    FAILED = "failed"


_AUTH_OPEN = (AuthState.NONE, AuthState.CHALLENGED, AuthState.PENDING)


class VerifiedEvents:
    """An LRU of (id, signature) pairs that verified, shared across relays.

    The same event usually arrives from several relays. A copy whose id still matches its
    content and whose signature equals one already verified for that id needs no second
    Schnorr check (the id commits to the author and every other field); anything else is
    verified in full. Only ids and signatures are kept, so memory stays small.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._sigs: OrderedDict[str, str] = OrderedDict()

    def verify(self, event: Event) -> None:
        if self._sigs.get(event.id) == event.sig:
            event.check_id()
            self._sigs.move_to_end(event.id)
            return
        event.verify()
        self._sigs[event.id] = event.sig
        if len(self._sigs) > self._capacity:
            self._sigs.popitem(last=False)


class RelaySession:
    """Protocol state for one relay; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        verified: VerifiedEvents | None = None,
        can_authenticate: bool = False,
        page_threshold: int = DEFAULT_PAGE_THRESHOLD,
    ) -> None:
        if page_threshold < 1:
            raise UsageError("page_threshold must be at least 1")
        self.url = url
        self.max_message_size = max_message_size
        self.page_threshold = page_threshold
        self.can_authenticate = can_authenticate
        self.stats = SessionStats()
        self.connected = False
        self.auth_state = AuthState.NONE
        self.challenge: str | None = None
        self._verified = verified if verified is not None else VerifiedEvents()
        self._subs: dict[str, SubscriptionState] = {}
        self._pages: dict[str, str] = {}  # page REQ id -> its subscription's id
        self._page_counter = 0
        self._outbox: list[str] = []
        self._auth_event_id: str | None = None
        self._auth_challenge: str | None = None
        self._auth_retries = 0
        self._auth_wanted = False  # the relay said auth-required on this socket

    # --- connection lifecycle ----------------------------------------------------

    def connection_made(self) -> None:
        """The socket is open: replay every subscription from its cursor."""
        self.connected = True
        for sub_id, sub in self._subs.items():
            self._outbox.append(ClientReq(sub_id, sub.start()).to_json())

    def connection_lost(self) -> None:
        """The socket is gone: EOSE and authentication start over on the next one."""
        self.connected = False
        self._outbox.clear()
        self.auth_state = AuthState.NONE
        self.challenge = None
        self._auth_event_id = None
        self._auth_retries = 0
        self._auth_wanted = False
        self._pages.clear()
        for sub in self._subs.values():
            sub.backfill[:0] = sub.owed()
            sub.eose = False
            sub.awaiting_auth = False

    def data_to_send(self) -> list[str]:
        out, self._outbox = self._outbox, []
        return out

    # --- commands ------------------------------------------------------------------

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        return tuple(self._subs)

    def has_eose(self, subscription_id: str) -> bool:
        """Every stored event is in on this connection (EOSE, and paging done)."""
        sub = self._subs.get(subscription_id)
        return sub is not None and sub.eose and sub.page_id is None

    def subscribe(
        self,
        subscription_id: str,
        filters: Iterable[Filter],
        *,
        since_margin: int = DEFAULT_SINCE_MARGIN,
    ) -> None:
        """Open (or replace) a subscription; sent now if connected, else on connect."""
        sub = SubscriptionState(tuple(filters), since_margin)
        request = ClientReq(subscription_id, sub.start())  # validates id and filters
        self._forget(subscription_id)
        self._subs[subscription_id] = sub
        if self.connected:
            self._outbox.append(request.to_json())

    def unsubscribe(self, subscription_id: str) -> None:
        if self._forget(subscription_id) and self.connected:
            self._outbox.append(ClientClose(subscription_id).to_json())

    def _forget(self, subscription_id: str) -> bool:
        """Drop a subscription and close its page REQ; False if there was none."""
        sub = self._subs.pop(subscription_id, None)
        if sub is None:
            return False
        if sub.page_id is not None and self.connected:
            self._outbox.append(ClientClose(sub.page_id).to_json())
        self._end_page(sub)
        return True

    def publish(self, event: Event) -> None:
        if not self.connected:
            raise RelayUnavailable(self.url)
        self._outbox.append(ClientEvent(event).to_json())

    def authenticate(self, event: Event) -> None:
        """Send a signed kind-22242 event answering ``challenge``."""
        if event.kind != Kind.CLIENT_AUTH:
            raise UsageError("authenticate() takes a kind-22242 event")
        if not self.connected:
            raise RelayUnavailable(self.url)
        self.auth_state = AuthState.PENDING
        self._auth_event_id = event.id
        self._auth_challenge = event.first_tag_value("challenge")
        self._outbox.append(ClientAuth(event).to_json())

    # --- incoming ------------------------------------------------------------------

    def receive(self, text: str, now: int) -> list[SessionEvent]:
        """Handle one text frame from the relay. Never raises on hostile input."""
        self.stats.messages += 1
        if len(text) > self.max_message_size:
            self.stats.oversized += 1
            return [MessageDropped(DropReason.OVERSIZED, f"{len(text)} characters")]
        try:
            message = parse_relay_message(text)
        except DecodeError as exc:
            self.stats.malformed += 1
            return [MessageDropped(DropReason.MALFORMED, str(exc))]
        return self._dispatch(message, now)

    def _dispatch(self, message: RelayMessage, now: int) -> list[SessionEvent]:
        if isinstance(message, RelayEvent):
            return self._on_event(message, now)
        if isinstance(message, RelayEose):
            return self._on_eose(message, now)
        if isinstance(message, RelayOk):
            return self._on_ok(message)
        if isinstance(message, RelayClosed):
            return self._on_closed(message)
        if isinstance(message, RelayAuth):
            return self._on_auth(message)
        self.stats.notices += 1
        return [NoticeReceived(message.message)]

    def _on_event(self, message: RelayEvent, now: int) -> list[SessionEvent]:
        event = message.event
        sub_id = self._pages.get(message.subscription_id, message.subscription_id)
        sub = self._subs.get(sub_id)
        if sub is None:
            self.stats.unknown_subscription += 1
            return [MessageDropped(DropReason.UNKNOWN_SUBSCRIPTION, message.subscription_id)]
        is_page = sub_id != message.subscription_id
        # A page's events must match the page (its ``until`` too), not just the filters.
        filters = [p.filter for p in sub.paging] if is_page else sub.filters
        if not any(f.search is not None or f.matches(event) for f in filters):
            self.stats.mismatched += 1
            return [MessageDropped(DropReason.FILTER_MISMATCH, "", event.id)]
        try:
            self._verified.verify(event)
        except InvalidEvent as exc:
            self.stats.invalid_events += 1
            return [MessageDropped(DropReason.INVALID_EVENT, str(exc), event.id)]
        self.stats.events += 1
        counting = sub.paging if is_page else () if sub.eose else sub.stored
        for page in counting:
            if page.filter.matches(event):
                page.add(event.created_at)
        # Never past our clock: one future-dated event (anyone may sign one that matches)
        # would otherwise make every resubscription skip what was missed while away.
        seen = min(event.created_at, now)
        if sub.cursor is None or seen > sub.cursor:
            sub.cursor = seen
        return [EventReceived(sub_id, event)]

    def _on_eose(self, message: RelayEose, now: int) -> list[SessionEvent]:
        sub_id = self._pages.get(message.subscription_id, message.subscription_id)
        sub = self._subs.get(sub_id)
        if sub is None:
            return []
        if sub_id != message.subscription_id:  # a page is complete
            self._outbox.append(ClientClose(message.subscription_id).to_json())
            self._end_page(sub)
            sub.backfill += [f for p in sub.paging if (f := p.next_page(self.page_threshold))]
            sub.paging = []
            return self._page(sub_id, sub)
        if sub.eose:
            return []
        sub.eose = True
        if sub.cursor is None or now > sub.cursor:
            sub.cursor = now
        sub.backfill += [f for p in sub.stored if (f := p.next_page(self.page_threshold))]
        sub.stored = []
        return self._page(sub_id, sub)

    def _page(self, sub_id: str, sub: SubscriptionState) -> list[SessionEvent]:
        """Send the next page REQ if one is owed; report EOSE once none is left."""
        if sub.page_id is None and sub.backfill:
            page_id = sub_id
            while page_id in self._subs:  # an id of its own, unused by any subscription
                self._page_counter += 1
                page_id = f"{sub_id[:48]}~page{self._page_counter}"
            sub.page_id = page_id
            self._pages[page_id] = sub_id
            sub.paging = [Page(f) for f in sub.backfill]
            sub.backfill = []
            self.stats.pages += 1
            self._outbox.append(
                ClientReq(sub.page_id, tuple(p.filter for p in sub.paging)).to_json()
            )
        return [EoseReceived(sub_id)] if sub.page_id is None else []

    def _end_page(self, sub: SubscriptionState) -> None:
        if sub.page_id is not None:
            del self._pages[sub.page_id]
            sub.page_id = None

    def _on_ok(self, message: RelayOk) -> list[SessionEvent]:
        if message.event_id == self._auth_event_id:
            return self._on_auth_ok(message)
        events: list[SessionEvent] = []
        if not message.accepted and message.prefix is MachineReadablePrefix.RATE_LIMITED:
            self.stats.rate_limited += 1
        elif not message.accepted and message.prefix is _AUTH:
            events = self._request_auth()
        events.append(
            OkReceived(message.event_id, message.accepted, message.message, message.prefix)
        )
        return events

    def _request_auth(self) -> list[SessionEvent]:
        """Ask the driver to authenticate if it can and has not been asked on this socket.

        Covers a signer attached after the relay's challenge arrived.
        """
        self._auth_wanted = True
        if self.can_authenticate and self.auth_state is AuthState.NONE and self.challenge:
            self.auth_state = AuthState.CHALLENGED
            return [AuthChallenged(self.challenge)]
        return []

    def _on_closed(self, message: RelayClosed) -> list[SessionEvent]:
        sub_id = self._pages.get(message.subscription_id, message.subscription_id)
        sub = self._subs.get(sub_id)
        if sub is None:
            return []
        if sub_id != message.subscription_id:  # a page refused: retried after the next EOSE
            self._end_page(sub)
            sub.backfill[:0] = sub.owed()
            return [EoseReceived(sub_id)]  # pages start after EOSE; this connection is done
        if message.prefix is _AUTH and self.can_authenticate and self.auth_state in _AUTH_OPEN:
            sub.awaiting_auth = True  # re-sent once AUTH succeeds
            return self._request_auth()
        self._forget(sub_id)
        return [SubscriptionClosed(sub_id, message.message, message.prefix)]

    def _on_auth(self, message: RelayAuth) -> list[SessionEvent]:
        # A challenge alone does not make us sign in: AUTH reveals the account's key.
        self.challenge = message.challenge
        return self._request_auth() if self._auth_wanted else []

    def _on_auth_ok(self, message: RelayOk) -> list[SessionEvent]:
        self._auth_event_id = None
        if message.accepted:
            self.auth_state = AuthState.AUTHENTICATED
            for sub_id, sub in self._subs.items():
                if sub.awaiting_auth:
                    sub.awaiting_auth = False
                    self._outbox.append(ClientReq(sub_id, sub.start()).to_json())
            return [AuthSucceeded()]
        fresher = self.challenge is not None and self.challenge != self._auth_challenge
        if fresher and self._auth_retries < _MAX_AUTH_RETRIES and self.challenge is not None:
            self._auth_retries += 1  # our answer crossed a newer challenge: try once more
            self.auth_state = AuthState.CHALLENGED
            return [AuthChallenged(self.challenge)]
        return self.fail_auth(message.message)

    def fail_auth(self, reason: str) -> list[SessionEvent]:
        """Give up on AUTH (refused, or no signer could answer): close what waited for it."""
        self.auth_state = AuthState.FAILED
        self._auth_event_id = None
        events: list[SessionEvent] = [AuthFailed(reason)]
        for sub_id in [s for s, sub in self._subs.items() if sub.awaiting_auth]:
            self._forget(sub_id)
            events.append(SubscriptionClosed(sub_id, reason, _AUTH))
        return events
