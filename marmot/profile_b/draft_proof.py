"""The July draft's account identity proof: LeafNode extension 0xf2f1, version 1.

What the e43fd5e Dark Matter client (``shared/oracles/darkmatter``, OpenMLS 0.8.1) writes
and requires on every leaf, before MDK master moved the proof into the 0x8009 component
(``identity_proof.py``). The account signs, BIP-340 over a 32-byte digest, ::

    SHA-256("marmot.account-identity-proof.v1" || 0x00 || 0xf2f1 u16 || 0x01
            || ciphersuite u16 || signature_scheme u16
            || u16 len || account[32] || u16 len || mls_signature_key)

and the extension's bytes are ``0x01 || ciphersuite u16 || signature_scheme u16 ||
account[32] || u16 len || mls_signature_key || signature[64]``. (MDK master's "legacy"
0xf2f1 is version 2, signed over an event id instead; it cannot read version 1.)

::

    data = create_draft_proof(secret, mls_signature_key)     # the extension's bytes
    verify_draft_proof(leaf)                                  # or InvalidIdentityProof
"""

from __future__ import annotations

import hashlib

from marmot.profile_b.errors import InvalidIdentityProof
from mls.messages import CredentialType, LeafNode
from nostr.errors import NostrError
from nostr.keys import PublicKey, Rng, SecretKey, system_rng, verify_schnorr

EXTENSION = 0xF2F1
VERSION = 1
DOMAIN = b"marmot.account-identity-proof.v1"
CIPHER_SUITE = 0x0001
SIGNATURE_SCHEME = 0x0807  # ed25519, the scheme of suite 0x0001

__all__ = ["EXTENSION", "create_draft_proof", "draft_proof_digest", "verify_draft_proof"]


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def draft_proof_digest(account: bytes, mls_signature_key: bytes) -> bytes:
    preimage = b"".join(
        (
            DOMAIN,
            b"\x00",
            _u16(EXTENSION),
            bytes([VERSION]),
            _u16(CIPHER_SUITE),
            _u16(SIGNATURE_SCHEME),
            _u16(len(account)),
            account,
            _u16(len(mls_signature_key)),
            mls_signature_key,
        )
    )
    return hashlib.sha256(preimage).digest()


def create_draft_proof(
    secret: SecretKey, mls_signature_key: bytes, *, rng: Rng = system_rng
) -> bytes:
    account = secret.public_key().data
    signature = secret.sign_schnorr(draft_proof_digest(account, mls_signature_key), rng=rng)
    head = bytes([VERSION]) + _u16(CIPHER_SUITE) + _u16(SIGNATURE_SCHEME) + account
    return head + _u16(len(mls_signature_key)) + mls_signature_key + signature


def _decode(data: bytes) -> tuple[int, int, bytes, bytes, bytes]:
    if len(data) < 1 + 2 + 2 + 32 + 2 + 64:
        raise InvalidIdentityProof("the 0xf2f1 proof is truncated")
    if data[0] != VERSION:
        raise InvalidIdentityProof(f"unsupported 0xf2f1 proof version {data[0]}")
    suite = int.from_bytes(data[1:3], "big")
    scheme = int.from_bytes(data[3:5], "big")
    account = data[5:37]
    key_len = int.from_bytes(data[37:39], "big")
    if len(data) != 39 + key_len + 64:
        raise InvalidIdentityProof("the 0xf2f1 proof has the wrong length")
    return suite, scheme, account, data[39 : 39 + key_len], data[39 + key_len :]


def verify_draft_proof(leaf: LeafNode) -> None:
    """The leaf's 0xf2f1 proof names the credential's account, the leaf's signature key
    and suite 0x0001 (ed25519), under the account's valid BIP-340 signature."""
    credential = leaf.credential
    if credential.credential_type != CredentialType.BASIC or len(credential.identity) != 32:
        raise InvalidIdentityProof("the credential is not a 32-byte BasicCredential")
    raw = [e.extension_data for e in leaf.extensions if e.extension_type == EXTENSION]
    if len(raw) != 1:
        raise InvalidIdentityProof("the leaf carries no 0xf2f1 proof")
    if EXTENSION not in leaf.capabilities.extensions:
        raise InvalidIdentityProof("the leaf does not advertise 0xf2f1")
    suite, scheme, account, key, signature = _decode(raw[0])
    if account != credential.identity:
        raise InvalidIdentityProof("the proof's account is not the credential's")
    if key != leaf.signature_key:
        raise InvalidIdentityProof("the proof names another signature key")
    if (suite, scheme) != (CIPHER_SUITE, SIGNATURE_SCHEME):
        raise InvalidIdentityProof("the proof names another suite or scheme")
    try:
        PublicKey(account)
        verify_schnorr(account, signature, draft_proof_digest(account, key))
    except NostrError:
        raise InvalidIdentityProof("the proof signature does not verify") from None
