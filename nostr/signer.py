"""The signer seam: who acts with the account's identity key (a local key or a NIP-46
remote signer, ``nostr.relay.remote_signer``).

Everything the identity key does goes through here: event signatures (profile, contacts,
relay lists, key packages, seals, NIP-42 AUTH) and NIP-44 with a third party (the seal and
gift-wrap layers of Welcomes). MLS signature keys are not identity keys and stay local.
"""

from __future__ import annotations

from typing import Protocol

from nostr import nip44
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng


class Signer(Protocol):
    """Anything that can sign and NIP-44-encrypt for one public key.

    The methods are coroutines so that a remote or locked signer can take its time (and
    fail with a ``NostrError``: ``SignerUnavailable`` or ``RemoteSignerError``).
    """

    @property
    def public_key(self) -> PublicKey: ...

    async def sign_event(self, unsigned: UnsignedEvent) -> Event: ...

    async def nip44_encrypt(self, peer: PublicKey, plaintext: str) -> str: ...

    async def nip44_decrypt(self, peer: PublicKey, payload: str) -> str: ...


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

    async def nip44_encrypt(self, peer: PublicKey, plaintext: str) -> str:
        conversation = nip44.conversation_key(self._secret, peer)
        return nip44.encrypt(plaintext, conversation, rng=self._rng)

    async def nip44_decrypt(self, peer: PublicKey, payload: str) -> str:
        return nip44.decrypt(payload, nip44.conversation_key(self._secret, peer))
