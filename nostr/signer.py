"""The signer seam: who signs on the account's behalf (a local key today, NIP-46 later)."""

from __future__ import annotations

from typing import Protocol

from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng


class Signer(Protocol):
    """Anything that can sign events for one public key.

    ``sign_event`` is a coroutine so that a remote or locked signer can take its time; the
    relay pool awaits it for NIP-42 AUTH.
    """

    @property
    def public_key(self) -> PublicKey: ...

    async def sign_event(self, unsigned: UnsignedEvent) -> Event: ...


class KeySigner:
    """A ``Signer`` over a secret key held in memory."""

    __slots__ = ("_rng", "_secret")

    def __init__(self, secret: SecretKey, *, rng: Rng = system_rng) -> None:
        self._secret = secret
        self._rng = rng

    def __repr__(self) -> str:
        return f"KeySigner({self._secret.public_key().hex})"

    @property
    def public_key(self) -> PublicKey:
        return self._secret.public_key()

    async def sign_event(self, unsigned: UnsignedEvent) -> Event:
        return unsigned.sign(self._secret, rng=self._rng)
