"""The per-leaf account identity proof, app component 0x8009 (MDK 0.9 "current" profile).

A leaf's credential names a Nostr account; its MLS signature key is fresh. The proof is
the account's BIP-340 signature binding the two, so a relay-visible Nostr key cannot be
claimed by someone holding only an MLS key. What is signed is the id of a kind-450 event
that is never published::

    pubkey      account key (hex)          created_at  the proof's time (1 .. 2^53 - 1)
    kind        450
    tags        ["d", "marmot.account-identity-proof.v2"], ["component", "0x8009"],
                ["ciphersuite", "0x0001"], ["signature_scheme", "0x0807"],
                ["mls_signature_key", <hex of the leaf's signature key>]
    content     "Authorize this MLS leaf key for my Marmot account"

The component's bytes are ``account_key[32] || created_at u64 || signature[64]`` (104
bytes). The draft's 0xf2f1 extension (MDK: "legacy") is not written; a leaf carrying it
beside 0x8009 is refused, as MDK refuses the mix.

::

    event = identity_proof_event(account, mls_signature_key, created_at)   # to sign
    data = identity_proof_component(account, created_at, signature)         # 104 bytes
    data = create_identity_proof(secret, mls_signature_key, created_at)     # both steps
    proof = verify_leaf_identity_proof(leaf)                                # or raises
"""

from __future__ import annotations

from dataclasses import dataclass

from marmot.profile_b.components import ComponentId
from marmot.profile_b.errors import InvalidIdentityProof
from marmot.profile_b.leaf_data import advertised_app_components
from mls.app_data import app_data_dictionary
from mls.errors import MlsError
from mls.messages import CredentialType, LeafNode
from nostr.errors import NostrError
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng, verify_schnorr

KIND = 450
DOMAIN = "marmot.account-identity-proof.v2"
CONTENT = "Authorize this MLS leaf key for my Marmot account"
PROOF_LEN = 32 + 8 + 64
MAX_CREATED_AT = (1 << 53) - 1
LEGACY_EXTENSION = 0xF2F1
CIPHER_SUITE = 0x0001
SIGNATURE_SCHEME = 0x0807  # ed25519, the scheme of suite 0x0001

__all__ = [
    "CONTENT",
    "DOMAIN",
    "KIND",
    "PROOF_LEN",
    "IdentityProof",
    "create_identity_proof",
    "identity_proof_component",
    "identity_proof_event",
    "verify_leaf_identity_proof",
]


@dataclass(frozen=True, slots=True)
class IdentityProof:
    account: bytes
    created_at: int
    signature: bytes


def _check_time(created_at: int) -> None:
    if not 1 <= created_at <= MAX_CREATED_AT:
        raise InvalidIdentityProof(f"proof created_at must be in 1..{MAX_CREATED_AT}")


def identity_proof_event(
    account: PublicKey, mls_signature_key: bytes, created_at: int
) -> UnsignedEvent:
    """The local kind-450 event whose id the account signs."""
    _check_time(created_at)
    tags = (
        ("d", DOMAIN),
        ("component", f"0x{ComponentId.ACCOUNT_IDENTITY_PROOF:04x}"),
        ("ciphersuite", f"0x{CIPHER_SUITE:04x}"),
        ("signature_scheme", f"0x{SIGNATURE_SCHEME:04x}"),
        ("mls_signature_key", mls_signature_key.hex()),
    )
    return UnsignedEvent.create(account, created_at, KIND, CONTENT, tags)


def identity_proof_component(account: PublicKey, created_at: int, signature: bytes) -> bytes:
    _check_time(created_at)
    if len(signature) != 64:
        raise InvalidIdentityProof("a BIP-340 signature is 64 bytes")
    return account.data + created_at.to_bytes(8, "big") + signature


def create_identity_proof(
    secret: SecretKey, mls_signature_key: bytes, created_at: int, *, rng: Rng = system_rng
) -> bytes:
    """The 0x8009 component bytes for a leaf whose signature key is ``mls_signature_key``."""
    account = secret.public_key()
    event = identity_proof_event(account, mls_signature_key, created_at)
    signature = secret.sign_schnorr(bytes.fromhex(event.id), rng=rng)
    return identity_proof_component(account, created_at, signature)


def decode_identity_proof(data: bytes) -> IdentityProof:
    if len(data) != PROOF_LEN:
        raise InvalidIdentityProof(f"the proof is exactly {PROOF_LEN} bytes, got {len(data)}")
    created_at = int.from_bytes(data[32:40], "big")
    _check_time(created_at)
    return IdentityProof(data[:32], created_at, data[40:])


def verify_leaf_identity_proof(
    leaf: LeafNode, *, cipher_suite: int = CIPHER_SUITE
) -> IdentityProof:
    """Section "account identity proof": the leaf advertises 0x8009 in its app_components,
    carries exactly the current form, and the proof names the credential's account, the
    leaf's signature key and our suite, under a valid BIP-340 signature."""
    if cipher_suite != CIPHER_SUITE:
        raise InvalidIdentityProof(f"no signature scheme known for suite {cipher_suite:#06x}")
    credential = leaf.credential
    if credential.credential_type != CredentialType.BASIC or len(credential.identity) != 32:
        raise InvalidIdentityProof("the credential is not a 32-byte BasicCredential")
    try:
        account = PublicKey(credential.identity)
    except NostrError:
        raise InvalidIdentityProof("the credential identity is not an x-only key") from None
    if any(e.extension_type == LEGACY_EXTENSION for e in leaf.extensions):
        raise InvalidIdentityProof("the leaf mixes the legacy 0xf2f1 proof with 0x8009")
    try:
        dictionary = app_data_dictionary(leaf.extensions)
    except MlsError as exc:
        raise InvalidIdentityProof(f"leaf app data: {exc}") from None
    raw = None if dictionary is None else dictionary.get(ComponentId.ACCOUNT_IDENTITY_PROOF)
    if raw is None:
        raise InvalidIdentityProof("the leaf carries no 0x8009 proof")
    if ComponentId.ACCOUNT_IDENTITY_PROOF not in advertised_app_components(leaf):
        raise InvalidIdentityProof("the leaf does not advertise 0x8009 in app_components")
    proof = decode_identity_proof(raw)
    if proof.account != account.data:
        raise InvalidIdentityProof("the proof's account is not the credential's")
    event = identity_proof_event(account, leaf.signature_key, proof.created_at)
    try:
        verify_schnorr(account.data, proof.signature, bytes.fromhex(event.id))
    except NostrError:
        raise InvalidIdentityProof("the proof signature does not verify") from None
    return proof
