"""A NIP-46 remote signer ("bunker") as a ``Signer``: requests over its relays, answers awaited.

    signer = RemoteSigner(client_secret, BunkerUri.parse(text))
    await signer.start()
    user = await signer.connect()            # connect + get_public_key (cached afterwards)
    event = await signer.sign_event(unsigned)
    await signer.close()

It keeps its own small relay pool on the signer's relays (they need not be the account's),
subscribed to kind 24133 answers ``p``-tagged to our local client key. Requests run
concurrently (each under its own id), so unwrapping several Welcomes or sealing for several
invitees is pipelined rather than serialised; there is no batch call in NIP-46.

Waiting: each attempt waits ``attempt_timeout``; kind 24133 is ephemeral, so a request sent
while the signer was away is gone and is sent again (same id, so a late first answer still
counts) up to ``attempts`` times. An ``auth_url`` challenge switches to waiting for the
person (``approval_timeout``) without resending. Then ``SignerUnavailable``; an error answer
is ``RemoteSignerError``. ``state`` tells a front end which of these is happening.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Self, TypeVar

from nostr import nip46
from nostr.errors import NostrError, RemoteSignerError, SignerUnavailable, UsageError
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.nip46_uri import BunkerUri, NostrConnectUri
from nostr.relay.options import PoolOptions
from nostr.relay.pool import RelayPool
from nostr.relay.status import RelayStatusChanged
from nostr.relay.subscription import ReceivedEvent, SubscriptionItem
from nostr.signer import KeySigner

log = logging.getLogger(__name__)


class SignerState(Enum):
    CONNECTING = "connecting"  # not yet connected, or reconnecting to its relays
    READY = "ready"  # the last request was answered
    WAITING_APPROVAL = "waiting_approval"  # an auth_url challenge awaits the person
    OFFLINE = "offline"  # no relay reachable, or the signer stopped answering
    REFUSED = "refused"  # the signer said no to the last request


@dataclass(frozen=True, slots=True)
class SignerStatus:
    state: SignerState
    detail: str = ""
    auth_url: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteSignerOptions:
    attempt_timeout: float = 10.0
    attempts: int = 3
    approval_timeout: float = 300.0
    connect_timeout: float = 10.0
    """How long ``start`` waits for one of the signer's relays to connect."""
    cache_size: int = 512
    """Answers kept per kind of request (a retried Welcome is not asked twice)."""


class _Pending:
    __slots__ = ("answered", "challenged", "request", "response", "woken")

    def __init__(self, request: nip46.Request) -> None:
        self.request = request
        self.answered = asyncio.Event()
        self.woken = asyncio.Event()
        """Set by an answer or a challenge: either ends the current attempt's wait."""
        self.challenged = False
        self.response: nip46.Response | None = None


class RemoteSigner:
    """See the module docstring. ``public_key`` is the user's key (known after ``connect``,
    or given when the account was stored); the signer's own key may differ from it."""

    def __init__(
        self,
        client: SecretKey,
        bunker: BunkerUri,
        *,
        user: PublicKey | None = None,
        options: RemoteSignerOptions | None = None,
        pool_options: PoolOptions | None = None,
        rng: Rng = system_rng,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bunker = bunker
        self.options = options or RemoteSignerOptions()
        self._client = client
        self._user = user
        self._rng = rng
        self._clock = clock
        self._pool = RelayPool(signer=KeySigner(client, rng=rng), options=pool_options, clock=clock)
        self._started: asyncio.Task[None] | None = None
        self._closed = False
        self._pending: dict[str, _Pending] = {}
        self._offer: tuple[str, asyncio.Future[PublicKey]] | None = None
        self._status = SignerStatus(SignerState.CONNECTING)
        self._listeners: list[Callable[[SignerStatus], None]] = []
        self._signed: OrderedDict[str, Event] = OrderedDict()
        self._decrypted: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.round_trips: dict[str, int] = {}
        """Requests answered, per method (what a common action costs)."""

    @classmethod
    def for_offer(cls, client: SecretKey, offer: NostrConnectUri, **kwargs: object) -> Self:
        """A signer for the ``nostrconnect://`` flow: its key is learnt by ``await_offer``
        (until then it stands in as our own key, whose answers are never taken)."""
        placeholder = BunkerUri(client.public_key(), offer.relays, offer.secret)
        return cls(client, placeholder, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"RemoteSigner(signer={self.bunker.signer.hex}, state={self._status.state.value})"

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def client_public_key(self) -> PublicKey:
        return self._client.public_key()

    async def start(self) -> None:
        """Connect to the signer's relays and listen for answers (returns when one relay is
        up or ``connect_timeout`` passed; requests wait for the rest). The first request
        starts it too; starting twice is harmless."""
        if self._closed:
            raise UsageError("the remote signer is closed")
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        self._pool.add_status_listener(self._on_relay_status)
        for url in self.bunker.relays:
            await self._pool.add_relay(url)
        answers = Filter(kinds=[nip46.KIND], tags={"p": [self.client_public_key.hex]})
        await self._pool.subscribe([answers], since_margin=60, on_item=self._on_item)
        await self._any_relay_connected(self.options.connect_timeout)

    async def close(self) -> None:
        self._closed = True
        if self._started is not None and not self._started.done():
            self._started.cancel()
        for pending in self._pending.values():
            pending.answered.set()
            pending.woken.set()
        await self._pool.close()

    async def _any_relay_connected(self, timeout: float) -> bool:
        waits = [
            asyncio.create_task(self._pool.wait_connected([url], timeout))
            for url in self._pool.relays
        ]
        try:
            for done in asyncio.as_completed(waits):
                if await done:
                    return True
            return False
        finally:
            for task in waits:
                task.cancel()

    # --- state ----------------------------------------------------------------------------

    @property
    def status(self) -> SignerStatus:
        return self._status

    def add_status_listener(self, listener: Callable[[SignerStatus], None]) -> None:
        self._listeners.append(listener)

    def _set_status(self, state: SignerState, detail: str = "", url: str | None = None) -> None:
        status = SignerStatus(state, detail, url)
        if status == self._status:
            return
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a front end's bug must not break signing
                log.exception("signer status listener failed")

    def _on_relay_status(self, change: RelayStatusChanged) -> None:
        connected = any(self._pool.status(url).is_connected for url in self._pool.relays)
        if not connected:
            self._set_status(SignerState.OFFLINE, "no relay of the signer is reachable")
        elif self._status.state is SignerState.OFFLINE:
            self._set_status(SignerState.CONNECTING, "reconnected to the signer's relay")

    # --- the Signer protocol --------------------------------------------------------------

    @property
    def public_key(self) -> PublicKey:
        if self._user is None:
            raise UsageError("the remote signer is not connected yet (call connect)")
        return self._user

    async def connect(self) -> PublicKey:
        """``connect`` (with the bunker secret and our permissions), then learn the user's
        key with ``get_public_key`` unless it is already known."""
        rid = nip46.request_id(self._rng)
        request = nip46.connect(self.bunker.signer, self.bunker.secret, nip46.PERMISSIONS, rid)
        nip46.connect_ack(await self._call(request), self.bunker.secret)
        return await self.get_public_key()

    async def get_public_key(self) -> PublicKey:
        if self._user is None:
            rid = nip46.request_id(self._rng)
            self._user = nip46.public_key(
                await self._call(nip46.simple(nip46.Method.GET_PUBLIC_KEY, rid))
            )
        return self._user

    async def ping(self) -> None:
        await self._call(nip46.simple(nip46.Method.PING, nip46.request_id(self._rng)))

    async def sign_event(self, unsigned: UnsignedEvent) -> Event:
        cached = self._signed.get(unsigned.id)
        if cached is not None:
            return cached
        result = await self._call(nip46.sign_event(unsigned, nip46.request_id(self._rng)))
        event = nip46.signed_event(unsigned, result)
        _remember(self._signed, unsigned.id, event, self.options.cache_size)
        return event

    async def nip44_encrypt(self, peer: PublicKey, plaintext: str) -> str:
        rid = nip46.request_id(self._rng)
        request = nip46.nip44_request(nip46.Method.NIP44_ENCRYPT, peer, plaintext, rid)
        return await self._call(request)

    async def nip44_decrypt(self, peer: PublicKey, payload: str) -> str:
        key = (peer.hex, payload)
        cached = self._decrypted.get(key)
        if cached is not None:
            return cached
        rid = nip46.request_id(self._rng)
        request = nip46.nip44_request(nip46.Method.NIP44_DECRYPT, peer, payload, rid)
        plaintext = await self._call(request)
        _remember(self._decrypted, key, plaintext, self.options.cache_size)
        return plaintext

    # --- nostrconnect:// ------------------------------------------------------------------

    async def await_offer(self, offer: NostrConnectUri, timeout: float) -> PublicKey:
        """Wait for a signer to take up ``offer`` (shown as a QR code); returns the signer's
        key. Its relays must be this signer's relays and its key our client key."""
        if offer.client != self.client_public_key:
            raise UsageError("the offer does not carry this signer's client key")
        await self.start()
        future: asyncio.Future[PublicKey] = asyncio.get_running_loop().create_future()
        self._offer = (offer.secret, future)
        try:
            async with asyncio.timeout(timeout):
                signer = await future
        except TimeoutError:
            raise SignerUnavailable(nip46.Method.CONNECT, "nobody took up the offer") from None
        finally:
            self._offer = None
        self.bunker = BunkerUri(signer, self.bunker.relays, offer.secret)
        self._set_status(SignerState.READY, "connected by nostrconnect")
        return signer

    # --- requests -------------------------------------------------------------------------

    async def _call(self, request: nip46.Request) -> str:
        await self.start()
        pending = _Pending(request)
        self._pending[request.id] = pending
        try:
            response = await self._exchange(pending)
        finally:
            del self._pending[request.id]
        try:
            result = nip46.check_result(request, response)
        except RemoteSignerError as exc:
            self._set_status(SignerState.REFUSED, exc.message)
            raise
        method = str(request.method)
        self.round_trips[method] = self.round_trips.get(method, 0) + 1
        self._set_status(SignerState.READY)
        return result

    async def _exchange(self, pending: _Pending) -> nip46.Response:
        method = pending.request.method
        for attempt in range(self.options.attempts):
            if attempt:
                self._set_status(SignerState.OFFLINE, "the signer is not answering; trying again")
            await self._send(pending.request)
            await _wait(pending.woken, self.options.attempt_timeout)
            if pending.response is not None or pending.challenged:
                break
        if pending.response is None and pending.challenged:
            # The person has a link to open; resending would only ask them twice.
            await _wait(pending.answered, self.options.approval_timeout)
        if pending.response is None:
            self._set_status(SignerState.OFFLINE, f"no answer to {method}")
            raise SignerUnavailable(method, f"no answer after {self.options.attempts} tries")
        return pending.response

    async def _send(self, request: nip46.Request) -> None:
        event = nip46.seal_message(
            request, self._client, self.bunker.signer, now=int(self._clock()), rng=self._rng
        )
        result = await self._pool.publish(event, timeout=self.options.attempt_timeout)
        if not result.accepted:
            self._set_status(SignerState.OFFLINE, "no relay of the signer took the request")

    def _on_item(self, item: SubscriptionItem) -> None:
        if isinstance(item, ReceivedEvent):
            self._on_event(item.event)

    def _on_event(self, event: Event) -> None:
        try:
            message = nip46.open_message(event, self._client)
        except NostrError as exc:
            log.debug("dropped a kind 24133 event %s: %s", event.id, exc)
            return
        if self._offer is not None and nip46.answers_offer(message, self._offer[0]):
            if not self._offer[1].done():
                self._offer[1].set_result(event.author)
            return
        if event.author != self.bunker.signer or not isinstance(message, nip46.Response):
            return  # only the signer we talk to may answer, and only with responses
        pending = self._pending.get(message.id)
        if pending is None:
            return  # a late copy of an answer already taken
        if message.auth_url is not None:
            pending.challenged = True
            pending.woken.set()
            state = SignerState.WAITING_APPROVAL
            self._set_status(state, "open the link to approve", message.auth_url)
            return
        pending.response = message
        pending.answered.set()
        pending.woken.set()


async def _wait(flag: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await flag.wait()


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)
