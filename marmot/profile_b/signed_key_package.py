"""A Profile B KeyPackage whose 0x8009 proof the account's signer makes, in two steps.

`create_key_package_b` needs the account's secret key; an app account may sign through a
NIP-46 remote signer instead. The proof is a BIP-340 signature over the id of a kind-450
event, which any Nostr signer makes by signing that event (it is never published)::

    draft = begin_key_package_b(account, now=now, rng=rng)   # fresh MLS signature key
    signed = await signer.sign_event(draft.proof_event)      # the account's signature
    bundle = finish_key_package_b(draft, signed.sig, rng=rng)  # validated KeyPackage

The KeyPackage is the same as `create_key_package_b` makes (leaf app components, draft-10
last resort, MDK's capabilities); `finish_key_package_b` validates the result, so a signer
that signed something else is refused here rather than by every invitee.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marmot.profile_b.components import ComponentId
from marmot.profile_b.errors import InvalidIdentityProof, InvalidKeyPackage
from marmot.profile_b.identity_proof import identity_proof_component, identity_proof_event
from marmot.profile_b.key_package import (
    CIPHER_SUITE,
    LEAF_APP_COMPONENTS,
    profile_b_capabilities,
    validate_key_package_b,
)
from mls.app_data import LastResortMarking, app_data_dictionary_extension, last_resort_extensions
from mls.crypto import get_suite
from mls.key_package import DEFAULT_LIFETIME, KeyPackageBundle, create_key_package
from mls.messages import AppDataDictionary, ComponentID, ComponentsList, Credential
from mls.types import Rng
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey

__all__ = ["KeyPackageDraft", "begin_key_package_b", "finish_key_package_b"]


@dataclass(frozen=True, slots=True)
class KeyPackageDraft:
    """A fresh MLS signature key waiting for the account's proof signature."""

    account: PublicKey
    created_at: int
    signature_pub: bytes
    proof_event: UnsignedEvent
    signature_priv: bytes = field(repr=False)


def begin_key_package_b(account: PublicKey, *, now: int, rng: Rng) -> KeyPackageDraft:
    """A new leaf signature key and the kind-450 event the account must sign for it."""
    signature_priv, signature_pub = get_suite(CIPHER_SUITE).generate_signature_key_pair(rng)
    event = identity_proof_event(account, signature_pub, now)
    return KeyPackageDraft(account, now, signature_pub, event, signature_priv)


def finish_key_package_b(draft: KeyPackageDraft, signature: str, *, rng: Rng) -> KeyPackageBundle:
    """The KeyPackage carrying the proof ``signature`` (hex, as an event's ``sig``);
    `InvalidKeyPackage` when the signature does not make a valid proof."""
    try:
        proof = identity_proof_component(draft.account, draft.created_at, bytes.fromhex(signature))
    except (ValueError, InvalidIdentityProof) as exc:
        raise InvalidKeyPackage(f"account identity proof: {exc}") from None
    leaf_dictionary = AppDataDictionary.of(
        {
            ComponentID.APP_COMPONENTS: ComponentsList.of(LEAF_APP_COMPONENTS).to_bytes(),
            ComponentId.ACCOUNT_IDENTITY_PROOF: proof,
        }
    )
    bundle = create_key_package(
        CIPHER_SUITE,
        Credential.basic(draft.account.data),
        now=draft.created_at,
        signature_priv=draft.signature_priv,
        lifetime=DEFAULT_LIFETIME,
        capabilities=profile_b_capabilities(),
        extensions=last_resort_extensions(LastResortMarking.DRAFT_10),
        leaf_extensions=(app_data_dictionary_extension(leaf_dictionary),),
        rng=rng,
    )
    validate_key_package_b(bundle.key_package, now=draft.created_at)
    return bundle
