"""The common authorization proof envelope (``MarmotAuthorizationProof``, spec
foundation/authorization-proofs.md): 104 bytes, ``signer_pubkey[32] || created_at u64 ||
signature[64]``, the signature BIP-340 by the account over the NIP-01 id of a local-only
event that the proof's owner document defines (kinds 450, 454 .. 457). External signers
that only sign Nostr events can make one. ``created_at`` is 1 .. 2^53 - 1 (it must survive
JSON numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from marmot.errors import MarmotError
from nostr.errors import NostrError
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng, verify_schnorr

__all__ = ["PROOF_LEN", "AuthorizationProof", "InvalidAuthorizationProof", "proof_event"]

PROOF_LEN = 104
MAX_CREATED_AT = (1 << 53) - 1


class InvalidAuthorizationProof(MarmotError):
    """Proof bytes that are malformed, or a signature that does not verify."""


def proof_event(
    signer: bytes, created_at: int, kind: int, tags: Iterable[tuple[str, ...]], content: str
) -> UnsignedEvent:
    return UnsignedEvent.create(signer.hex(), created_at, kind, content, tags)


@dataclass(frozen=True, slots=True)
class AuthorizationProof:
    signer: bytes
    created_at: int
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.signer) != 32 or len(self.signature) != 64:
            raise InvalidAuthorizationProof("a proof has a 32-byte signer and 64-byte signature")
        if not 1 <= self.created_at <= MAX_CREATED_AT:
            raise InvalidAuthorizationProof(f"proof created_at must be in 1..{MAX_CREATED_AT}")

    def encode(self) -> bytes:
        return self.signer + self.created_at.to_bytes(8, "big") + self.signature

    @classmethod
    def decode(cls, data: bytes) -> AuthorizationProof:
        if len(data) != PROOF_LEN:
            raise InvalidAuthorizationProof(f"a proof is {PROOF_LEN} bytes, got {len(data)}")
        return cls(data[:32], int.from_bytes(data[32:40], "big"), data[40:])

    @classmethod
    def sign(
        cls,
        secret: SecretKey,
        created_at: int,
        kind: int,
        tags: Iterable[tuple[str, ...]],
        content: str,
        *,
        rng: Rng = system_rng,
    ) -> AuthorizationProof:
        signer = secret.public_key().data
        event = proof_event(signer, created_at, kind, tags, content)
        return cls(signer, created_at, secret.sign_schnorr(bytes.fromhex(event.id), rng=rng))

    def verify(self, kind: int, tags: Iterable[tuple[str, ...]], content: str) -> None:
        event = proof_event(self.signer, self.created_at, kind, tags, content)
        try:
            PublicKey(self.signer)
            verify_schnorr(self.signer, self.signature, bytes.fromhex(event.id))
        except NostrError:
            raise InvalidAuthorizationProof("proof signature does not verify") from None
