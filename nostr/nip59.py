"""NIP-59 gift wrap: rumor (unsigned) -> seal (kind 13) -> gift wrap (kind 1059).

The seal is signed by the real author and NIP-44-encrypted to the receiver; the wrap is
signed by a one-time key. ``seal_with`` and ``unwrap_with`` do the author's part through a
``Signer`` (a remote one costs two round trips each: encrypt + sign, or decrypt twice).
Both timestamps are moved a random amount, up to two days, into the past so relays cannot
correlate them with the send time. ``now`` and ``rng`` are parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nostr import nip44
from nostr.errors import DecryptionError, UsageError
from nostr.event import Event, UnsignedEvent, make_tags
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.kinds import Kind
from nostr.signer import Signer

TIMESTAMP_TWEAK = 2 * 24 * 60 * 60
"""Seals and wraps are dated uniformly in ``(now - TIMESTAMP_TWEAK, now]``."""


def random_past_timestamp(now: int, rng: Rng = system_rng) -> int:
    # 64 random bits reduced modulo 172800: the bias is below 2^-46.
    return now - int.from_bytes(rng(8), "big") % TIMESTAMP_TWEAK


def seal(
    rumor: UnsignedEvent, sender: SecretKey, receiver: PublicKey, *, now: int, rng: Rng = system_rng
) -> Event:
    """Encrypt ``rumor`` from ``sender`` to ``receiver`` in a kind-13 seal signed by sender."""
    author = sender.public_key()
    if rumor.pubkey != author.hex:
        raise UsageError("a rumor must be sealed by its own author")
    content = nip44.encrypt(rumor.to_json(), nip44.conversation_key(sender, receiver), rng=rng)
    unsigned = UnsignedEvent(author.hex, random_past_timestamp(now, rng), Kind.SEAL, (), content)
    return unsigned.sign(sender, rng=rng)


async def seal_with(
    rumor: UnsignedEvent, signer: Signer, receiver: PublicKey, *, now: int, rng: Rng = system_rng
) -> Event:
    """``seal`` with the author's key behind ``signer``."""
    author = signer.public_key
    if rumor.pubkey != author.hex:
        raise UsageError("a rumor must be sealed by its own author")
    content = await signer.nip44_encrypt(receiver, rumor.to_json())
    created_at = random_past_timestamp(now, rng)
    return await signer.sign_event(UnsignedEvent(author.hex, created_at, Kind.SEAL, (), content))


def wrap_seal(
    sealed: Event,
    receiver: PublicKey,
    *,
    now: int,
    rng: Rng = system_rng,
    extra_tags: Iterable[Iterable[str]] = (),
) -> Event:
    """Wrap a seal in a kind-1059 event from a fresh key, ``p``-tagged to the receiver."""
    one_time = SecretKey.generate(rng)
    content = nip44.encrypt(sealed.to_json(), nip44.conversation_key(one_time, receiver), rng=rng)
    tags = (*make_tags(extra_tags), ("p", receiver.hex))
    created_at = random_past_timestamp(now, rng)
    unsigned = UnsignedEvent(one_time.public_key().hex, created_at, Kind.GIFT_WRAP, tags, content)
    return unsigned.sign(one_time, rng=rng)


def gift_wrap(
    rumor: UnsignedEvent,
    sender: SecretKey,
    receiver: PublicKey,
    *,
    now: int,
    rng: Rng = system_rng,
    extra_tags: Iterable[Iterable[str]] = (),
) -> Event:
    """Seal then wrap ``rumor`` for ``receiver`` (extra tags go before the ``p`` tag)."""
    sealed = seal(rumor, sender, receiver, now=now, rng=rng)
    return wrap_seal(sealed, receiver, now=now, rng=rng, extra_tags=extra_tags)


@dataclass(frozen=True, slots=True)
class UnwrappedGift:
    """What a gift wrap carried: the rumor, its proven author, and the seal itself."""

    rumor: UnsignedEvent
    sender: PublicKey
    seal: Event
    rumor_json: str = field(default="", repr=False)
    """The rumor exactly as it was sealed (e.g. to see which fields it carried)."""


def unwrap(wrap: Event, receiver: SecretKey) -> UnwrappedGift:
    """Open a gift wrap addressed to ``receiver``.

    Verifies the wrap and the seal, and requires ``rumor.pubkey == seal.pubkey`` (a seal
    cannot speak for someone else). Raises ``DecryptionError``, ``DecodeError`` or
    ``InvalidEvent``; never returns unchecked content.
    """
    _check_wrap(wrap)
    sealed = _open_seal(nip44.decrypt(wrap.content, nip44.conversation_key(receiver, wrap.author)))
    rumor_json = nip44.decrypt(sealed.content, nip44.conversation_key(receiver, sealed.author))
    return _gift(sealed, rumor_json)


async def unwrap_with(wrap: Event, signer: Signer) -> UnwrappedGift:
    """``unwrap`` with the receiver's key behind ``signer`` (the same checks)."""
    _check_wrap(wrap)
    sealed = _open_seal(await signer.nip44_decrypt(wrap.author, wrap.content))
    return _gift(sealed, await signer.nip44_decrypt(sealed.author, sealed.content))


def _check_wrap(wrap: Event) -> None:
    if wrap.kind != Kind.GIFT_WRAP:
        raise DecryptionError(f"kind {wrap.kind} is not a gift wrap")
    wrap.verify()


def _open_seal(seal_json: str) -> Event:
    sealed = Event.from_json(seal_json)
    if sealed.kind != Kind.SEAL:
        raise DecryptionError(f"gift wrap holds kind {sealed.kind}, not a seal")
    sealed.verify()
    return sealed


def _gift(sealed: Event, rumor_json: str) -> UnwrappedGift:
    rumor = UnsignedEvent.from_json(rumor_json)
    if rumor.pubkey != sealed.pubkey:
        raise DecryptionError("the rumor's author is not the seal's signer")
    return UnwrappedGift(rumor, sealed.author, sealed, rumor_json)
