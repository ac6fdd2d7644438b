"""MIP-02: the kind 444 Welcome rumor and its NIP-59 delivery (marmot.md section 4).

Rumor (never signed; its id is always set): ``pubkey`` = the inviter, ``content`` =
``base64(TLS(MLSMessage(Welcome)))``, tags in MDK's order ``relays``, ``e`` (the invitee's
KeyPackage event id), ``client``, ``encoding``. It is sealed by the inviter's identity key
and gift-wrapped to the invitee; White Noise adds a 30-day ``expiration`` to the wrap.

Receiving checks (MDK ``validate_welcome_event``, over every tag in any order): kind 444,
at least three tags, a ``relays`` tag whose URLs all parse, a non-empty ``e``, every
``encoding`` exactly ``base64``, every ``client`` non-empty (the tag is optional), an
``id`` present, and content that decodes to an ``MLSMessage`` holding a Welcome.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from marmot.errors import InvalidWelcome, UsageError
from marmot.key_package_event import CLIENT, MarmotKeyPackage
from marmot.primitives import b64decode, b64encode
from mls.errors import MlsError
from mls.messages import MLSMessage, Welcome
from nostr.errors import DecodeError as NostrDecodeError
from nostr.errors import NostrError, RemoteSignerError, SignerUnavailable
from nostr.event import Event, UnsignedEvent, expiration_tag
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.kinds import Kind
from nostr.nip59 import UnwrappedGift, gift_wrap, seal_with, unwrap, unwrap_with, wrap_seal
from nostr.relay_url import normalize_relay_url
from nostr.signer import Signer

WRAP_EXPIRATION = 30 * 24 * 3600


def build_welcome_rumor(
    inviter: PublicKey | str,
    created_at: int,
    welcome: MLSMessage | bytes,
    *,
    relays: Sequence[str],
    key_package_event_id: str,
    client: str | None = CLIENT,
) -> UnsignedEvent:
    """The kind 444 rumor for one invitee's KeyPackage event."""
    data = welcome if isinstance(welcome, bytes) else welcome.to_bytes()
    if not relays:
        raise UsageError("a Welcome needs the group's relays")
    tags: list[tuple[str, ...]] = [("relays", *relays), ("e", key_package_event_id)]
    if client is not None:
        tags.append(("client", client))
    tags.append(("encoding", "base64"))
    return UnsignedEvent.create(inviter, created_at, Kind.MLS_WELCOME, b64encode(data), tags)


def wrap_welcome(
    rumor: UnsignedEvent,
    inviter: SecretKey,
    invitee: PublicKey,
    *,
    now: int,
    rng: Rng = system_rng,
    expiration: int | None = None,
) -> Event:
    """Seal (by the inviter) and gift-wrap (fresh key) ``rumor`` to ``invitee``.

    The wrap expires after 30 days unless ``expiration`` says otherwise.
    """
    expires = now + WRAP_EXPIRATION if expiration is None else expiration
    return gift_wrap(
        rumor, inviter, invitee, now=now, rng=rng, extra_tags=[expiration_tag(expires)]
    )


@dataclass(frozen=True, slots=True)
class WelcomeRumor:
    """A kind 444 rumor for one invitee: gift-wrap it with :meth:`wrap` and send it to the
    invitee's inbox relays only after the commit that adds them was accepted."""

    invitee: PublicKey
    key_package_event_id: str
    rumor: UnsignedEvent

    def wrap(self, inviter: SecretKey, *, now: int, rng: Rng = system_rng) -> Event:
        return wrap_welcome(self.rumor, inviter, self.invitee, now=now, rng=rng)

    async def wrap_with(self, inviter: Signer, *, now: int, rng: Rng = system_rng) -> Event:
        """``wrap`` with the inviter's identity key behind a ``Signer`` (local or remote)."""
        sealed = await seal_with(self.rumor, inviter, self.invitee, now=now, rng=rng)
        expires = [expiration_tag(now + WRAP_EXPIRATION)]
        return wrap_seal(sealed, self.invitee, now=now, rng=rng, extra_tags=expires)


def welcome_rumors(
    inviter: bytes,
    welcome: MLSMessage | None,
    invitees: Sequence[MarmotKeyPackage],
    relays: Sequence[str],
    now: int,
) -> tuple[WelcomeRumor, ...]:
    """One rumor per invited KeyPackage event, each with the Welcome as that invitee
    needs it (:func:`welcome_for`)."""
    if welcome is None:
        return ()
    return tuple(
        WelcomeRumor(
            kp.author,
            kp.event_id,
            build_welcome_rumor(
                inviter.hex(),
                now,
                welcome_for(welcome, kp.ref),
                relays=relays,
                key_package_event_id=kp.event_id,
            ),
        )
        for kp in invitees
    )


def welcome_for(welcome: MLSMessage, ref: bytes) -> bytes:
    """The Welcome bytes with only the group secrets of the KeyPackage ``ref``.

    A joiner looks up its own entry by KeyPackageRef (RFC 9420 section 12.4.3.1) and the
    GroupInfo is encrypted once for all, so the trimmed Welcome is as valid for them as
    the whole one, and about 150 bytes per co-invitee smaller: a Welcome carries the whole
    ratchet tree and must fit in one gift-wrapped event (see bench/invite_limit_bench.py).
    """
    body = welcome.body
    assert isinstance(body, Welcome)
    mine = tuple(s for s in body.secrets if s.new_member == ref)
    if not mine or len(mine) == len(body.secrets):
        return welcome.to_bytes()
    return MLSMessage(replace(body, secrets=mine)).to_bytes()


@dataclass(frozen=True, slots=True)
class WelcomeInvite:
    """A Welcome rumor that passed the MIP-02 checks (not yet processed by MLS)."""

    rumor: UnsignedEvent = field(repr=False)
    welcome: Welcome = field(repr=False)
    relays: tuple[str, ...]
    key_package_event_id: str
    client: str | None

    @property
    def inviter(self) -> str:
        """Hex public key of the member who sent the invite."""
        return self.rumor.pubkey


def _relay_urls(rumor: UnsignedEvent, urls: tuple[str, ...]) -> list[str]:
    try:
        return [normalize_relay_url(url) for url in urls]
    except NostrDecodeError as exc:
        raise InvalidWelcome(f"invalid relay URL: {exc}", event_id=rumor.id) from None


def _check_tags(rumor: UnsignedEvent) -> tuple[tuple[str, ...], str, str | None]:
    """MDK ``validate_welcome_event``: every tag is looked at, in any order; a relays
    tag's URLs must all parse, and every ``client`` and ``encoding`` tag must be valid."""
    if len(rumor.tags) < 3:
        raise InvalidWelcome("a Welcome rumor has at least three tags", event_id=rumor.id)
    relays: list[str] = []
    key_package_ids: list[str] = []
    client, encoded = None, False
    for tag in rumor.tags:
        name = tag[0] if tag else ""
        value = tag[1] if len(tag) > 1 else None
        if name == "relays" and value is not None:
            urls = _relay_urls(rumor, tag[1:])
            relays = relays or urls
        elif name == "e" and value:
            key_package_ids.append(value)
        elif name == "client":
            if not value:
                raise InvalidWelcome("an empty client tag", event_id=rumor.id)
            client = client or value
        elif name == "encoding":
            if value != "base64":
                raise InvalidWelcome("the encoding tag must be base64", event_id=rumor.id)
            encoded = True
    if not relays:
        raise InvalidWelcome("a Welcome needs a relays tag with a relay URL", event_id=rumor.id)
    if not key_package_ids:
        raise InvalidWelcome("missing KeyPackage reference (e tag)", event_id=rumor.id)
    if not encoded:
        raise InvalidWelcome("the encoding tag must be base64", event_id=rumor.id)
    return tuple(dict.fromkeys(relays)), key_package_ids[0], client


def parse_welcome_rumor(rumor: UnsignedEvent) -> WelcomeInvite:
    """Check a kind 444 rumor and decode its Welcome; raises :class:`InvalidWelcome`."""
    if rumor.kind != Kind.MLS_WELCOME:
        raise InvalidWelcome(f"kind {rumor.kind} is not a Welcome", event_id=rumor.id)
    relays, kp_event_id, client = _check_tags(rumor)
    try:
        message = MLSMessage.from_bytes(b64decode(rumor.content))
    except (ValueError, MlsError) as exc:
        raise InvalidWelcome(f"content is not an MLSMessage: {exc}", event_id=rumor.id) from None
    if not isinstance(message.body, Welcome):
        raise InvalidWelcome("the MLSMessage is not a Welcome", event_id=rumor.id)
    return WelcomeInvite(rumor, message.body, relays, kp_event_id, client)


def unwrap_welcome(wrap: Event, receiver: SecretKey) -> WelcomeInvite:
    """Open a gift wrap addressed to ``receiver`` and parse the Welcome inside.

    NIP-59 already proves the seal's signature and that the rumor's author sealed it;
    MDK also requires the rumor to carry its id (``MissingRumorEventId``).
    """
    try:
        gift = unwrap(wrap, receiver)
    except NostrError as exc:
        raise InvalidWelcome(f"gift wrap does not open: {exc}", event_id=wrap.id) from None
    return _welcome_of(wrap, gift)


async def unwrap_welcome_with(wrap: Event, receiver: Signer) -> WelcomeInvite:
    """``unwrap_welcome`` with the receiver's identity key behind a ``Signer``.

    Only the signer's own failures (``SignerUnavailable``, ``RemoteSignerError``) pass
    through untranslated: they say nothing about the Welcome, which may be retried later.
    """
    try:
        gift = await unwrap_with(wrap, receiver)
    except (SignerUnavailable, RemoteSignerError):
        raise
    except NostrError as exc:
        raise InvalidWelcome(f"gift wrap does not open: {exc}", event_id=wrap.id) from None
    return _welcome_of(wrap, gift)


def _welcome_of(wrap: Event, gift: UnwrappedGift) -> WelcomeInvite:
    if "id" not in json.loads(gift.rumor_json):
        raise InvalidWelcome("the Welcome rumor has no id", event_id=wrap.id)
    return parse_welcome_rumor(gift.rumor)
