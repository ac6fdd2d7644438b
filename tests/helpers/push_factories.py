"""MIP-05 notification triggers for tests, valid and deliberately broken.

Valid triggers come from ``marmot.push`` (the client's own builder); broken ones are put
together here layer by layer (rumor, seal, wrap) so that each can break one rule only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from marmot.primitives import b64encode
from marmot.push import (
    KIND_TRIGGER,
    Platform,
    PushToken,
    build_notification_request,
    encrypt_token,
)
from nostr import nip44
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, SecretKey
from nostr.kinds import Kind
from nostr.nip59 import gift_wrap, wrap_seal

TRIGGER_TAGS = (("v", "mip05-v1"), ("encoding", "base64"))


def fcm(text: str) -> PushToken:
    return PushToken(Platform.FCM, text.encode())


def apns(data: bytes) -> PushToken:
    return PushToken(Platform.APNS, data)


def encrypted(server: PublicKey, tokens: Iterable[PushToken]) -> list[bytes]:
    return [encrypt_token(server, t) for t in tokens]


def trigger(server: PublicKey, tokens: Sequence[bytes], *, now: int) -> Event:
    """A valid kind-1059 wrap of one 446, the way a Burrow or White Noise client sends it."""
    ephemeral = SecretKey.generate()
    rumor = build_notification_request(ephemeral.public_key(), now, tokens)
    return gift_wrap(rumor, ephemeral, server, now=now)


def rewrap(rumor: UnsignedEvent, author: SecretKey, server: PublicKey, *, now: int) -> Event:
    return gift_wrap(rumor, author, server, now=now)


def raw_rumor(
    author: SecretKey,
    *,
    now: int,
    content: bytes | str,
    kind: int = KIND_TRIGGER,
    tags: Iterable[Iterable[str]] = TRIGGER_TAGS,
) -> UnsignedEvent:
    text = content if isinstance(content, str) else b64encode(content)
    return UnsignedEvent.create(author.public_key(), now, kind, text, tags)


def forged_wrap(
    rumor: UnsignedEvent,
    seal_signer: SecretKey,
    server: PublicKey,
    *,
    now: int,
    seal_kind: int = Kind.SEAL,
) -> Event:
    """A wrap whose seal may be signed by someone other than the rumor's author, or not
    be a kind-13 seal at all (``nip59.seal`` refuses to build either)."""
    content = nip44.encrypt(rumor.to_json(), nip44.conversation_key(seal_signer, server))
    sealed = UnsignedEvent.create(seal_signer.public_key(), now, seal_kind, content)
    return wrap_seal(sealed.sign(seal_signer), server, now=now)
