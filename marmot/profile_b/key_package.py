"""Profile B KeyPackages: MLSMessage-framed, validated as MDK 0.9 (cgka-engine) does.

::

    kp = decode_key_package_message(raw)        # MLSMessage(wire_format=mls_key_package)
    verdict = lifetime_verdict(kp.leaf_node.lifetime, now)   # current / range / accepted
    form = validate_key_package_b(kp, now=now)  # signatures, lifetime, either proof
    caps = key_package_capabilities(kp)         # what the 30443 tags must say

Differences from Profile A that matter here: the publication is the framed MLSMessage
(the ref is still over the bare KeyPackage); the lifetime range is capped at 84 d + 1 h
(OpenMLS refuses one second more, marmot-ts's Rust vector pins that) and no clock skew is
granted, as OpenMLS grants none; and the leaf must carry an account proof: the 0x8009
component (MDK master) or, in ``ProofForm.DRAFT``, the July draft's 0xf2f1 extension that
the e43fd5e Dark Matter client requires (``proofs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from marmot.profile_b.components import ComponentId
from marmot.profile_b.draft_proof import EXTENSION as DRAFT_PROOF_EXTENSION
from marmot.profile_b.draft_proof import create_draft_proof
from marmot.profile_b.errors import InvalidIdentityProof, InvalidKeyPackage
from marmot.profile_b.identity_proof import create_identity_proof
from marmot.profile_b.leaf_data import advertised_app_components
from marmot.profile_b.proofs import ProofForm, verify_leaf_proof
from mls.app_data import LastResortMarking, app_data_dictionary_extension, last_resort_extensions
from mls.codec import decode_all
from mls.crypto import get_suite
from mls.errors import DecodeError, MlsError
from mls.key_package import (
    DEFAULT_LIFETIME,
    KeyPackageBundle,
    create_key_package,
    validate_key_package,
)
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    AppDataDictionary,
    Capabilities,
    ComponentID,
    ComponentsList,
    Credential,
    CredentialType,
    Extension,
    ExtensionType,
    KeyPackage,
    Lifetime,
    MLSMessage,
    ProposalType,
    ProtocolVersion,
    is_grease,
)
from mls.types import Rng
from nostr.keys import SecretKey

LIFETIME_RANGE_CAP = 7_261_200
"""84 days + 1 hour: the widest ``not_after - not_before`` OpenMLS accepts."""
PRIVATE_USE_START = 0x8000
CIPHER_SUITE = 0x0001
LEAF_APP_COMPONENTS = (
    ComponentID.APP_COMPONENTS,
    ComponentId.GROUP_PROFILE,
    ComponentId.GROUP_BLOSSOM_IMAGE,
    ComponentId.ADMIN_POLICY,
    ComponentId.NOSTR_ROUTING,
    ComponentId.MESSAGE_RETENTION,
    ComponentId.AGENT_TEXT_STREAM_QUIC,
    ComponentId.GROUP_AVATAR_URL,
    ComponentId.ENCRYPTED_MEDIA_V1,
    ComponentId.ACCOUNT_IDENTITY_PROOF,
    ComponentId.ENCRYPTED_MEDIA_V2,
    ComponentId.GROUP_LIFECYCLE,
)
"""The app components a leaf of ours advertises: what MDK master's app registers
(marmot-app ``supported_app_component_ids`` plus the 0x8009 proof). White Noise founds a
group only when every founding member supports its initial components (routing, an
agent-stream policy, the media policy, retention when set), so the bare engine's smaller
set (its KeyPackage in marmot-ts's fixture) would keep us out of every White Noise group.
The agent stream is only carried: we send no stream frames."""
DRAFT_LEAF_APP_COMPONENTS = (
    ComponentId.GROUP_PROFILE,
    ComponentId.ADMIN_POLICY,
    ComponentId.NOSTR_ROUTING,
    ComponentId.AGENT_TEXT_STREAM_QUIC,
    ComponentId.ENCRYPTED_MEDIA_V1,
)
"""What the e43fd5e client's leaves advertise: it requires every one of them of an invitee
(its new groups carry routing, an agent-stream policy and a media policy)."""
AGENT_STREAM_ROLES = (0xF2D1, 0xF2D2, 0xF2D4)
"""Private-use extension types the e43fd5e client advertises per agent-stream role; its
default policy requires "receive" (0xf2d1) of every invitee. Only advertised: we send no
stream frames, and the stream component's state is carried as opaque bytes."""

__all__ = [
    "DRAFT_LEAF_APP_COMPONENTS",
    "LEAF_APP_COMPONENTS",
    "ProofForm",
    "LIFETIME_RANGE_CAP",
    "KeyPackageCapabilities",
    "LifetimeVerdict",
    "advertised_app_components",
    "create_key_package_b",
    "profile_b_capabilities",
    "decode_key_package_message",
    "encode_key_package_message",
    "key_package_capabilities",
    "lifetime_verdict",
    "validate_key_package_b",
]


@dataclass(frozen=True, slots=True)
class LifetimeVerdict:
    current: bool
    range_acceptable: bool

    @property
    def accepted(self) -> bool:
        return self.current and self.range_acceptable


def lifetime_verdict(lifetime: Lifetime, now: int) -> LifetimeVerdict:
    current = lifetime.not_before <= now <= lifetime.not_after
    span = lifetime.not_after - lifetime.not_before
    return LifetimeVerdict(current, 0 <= span <= LIFETIME_RANGE_CAP)


def decode_key_package_message(raw: bytes) -> KeyPackage:
    """The KeyPackage inside an ``MLSMessage`` (the only form Profile B publishes)."""
    try:
        message = decode_all(raw, MLSMessage.decode)
    except DecodeError as exc:
        raise InvalidKeyPackage(f"not an MLSMessage: {exc}") from None
    if not isinstance(message.body, KeyPackage):
        raise InvalidKeyPackage("the MLSMessage does not carry a KeyPackage")
    return message.body


def encode_key_package_message(key_package: KeyPackage) -> bytes:
    return MLSMessage(key_package).to_bytes()


@dataclass(frozen=True, slots=True)
class KeyPackageCapabilities:
    """What a KeyPackage advertises, as MDK derives its 30443 tags from it."""

    extensions: frozenset[int]  # GREASE dropped
    proposals: frozenset[int]
    app_components: frozenset[int]

    @property
    def effective_extensions(self) -> frozenset[int]:
        return self.extensions | DEFAULT_EXTENSION_TYPES

    @property
    def effective_proposals(self) -> frozenset[int]:
        return self.proposals | DEFAULT_PROPOSAL_TYPES

    @property
    def private_app_components(self) -> frozenset[int]:
        return frozenset(c for c in self.app_components if c >= PRIVATE_USE_START)


def key_package_capabilities(key_package: KeyPackage) -> KeyPackageCapabilities:
    caps = key_package.leaf_node.capabilities
    return KeyPackageCapabilities(
        frozenset(e for e in caps.extensions if not is_grease(e)),
        frozenset(caps.proposals),
        advertised_app_components(key_package.leaf_node),
    )


def validate_key_package_b(key_package: KeyPackage, *, now: int) -> ProofForm:
    """Both signatures, structure, the Profile B lifetime rule (no skew, range cap) and the
    leaf's account identity proof, in either form; returns the form."""
    try:
        validate_key_package(key_package, now=None, cipher_suite=CIPHER_SUITE)
    except MlsError as exc:
        raise InvalidKeyPackage(str(exc)) from None
    lifetime = key_package.leaf_node.lifetime
    assert lifetime is not None  # validate_key_package insists on a key_package leaf
    verdict = lifetime_verdict(lifetime, now)
    if not verdict.range_acceptable:
        raise InvalidKeyPackage("KeyPackage lifetime is longer than 84 days + 1 hour")
    if not verdict.current:
        raise InvalidKeyPackage("KeyPackage lifetime does not cover now")
    try:
        return verify_leaf_proof(key_package.leaf_node)
    except InvalidIdentityProof as exc:
        raise InvalidKeyPackage(f"account identity proof: {exc.reason}") from None


def profile_b_capabilities(form: ProofForm = ProofForm.CURRENT) -> Capabilities:
    """As White Noise's ``marmot-app`` advertises: extension app_data_dictionary, proposals
    app_data_update and self_remove (its feature registry makes "self-remove" required;
    the bare engine of the marmot-ts fixture has no registry and lists 0x0008 alone).
    Default types are implied; no GREASE, as MDK sends none. The draft form lists what the
    e43fd5e client lists: also required_capabilities, last_resort, 0xf2f1 and the
    agent-stream roles (OpenMLS 0.8.1 wants every extension a leaf or group uses listed)."""
    extensions: tuple[int, ...] = (ExtensionType.APP_DATA_DICTIONARY,)
    if form is ProofForm.DRAFT:
        extensions = (
            ExtensionType.REQUIRED_CAPABILITIES,
            ExtensionType.APP_DATA_DICTIONARY,
            ExtensionType.LAST_RESORT,
            *AGENT_STREAM_ROLES,
            DRAFT_PROOF_EXTENSION,
        )
    return Capabilities(
        versions=(ProtocolVersion.MLS10,),
        cipher_suites=(CIPHER_SUITE,),
        extensions=extensions,
        proposals=(ProposalType.APP_DATA_UPDATE, ProposalType.SELF_REMOVE),
        credentials=(CredentialType.BASIC,),
    )


def _leaf_extensions(
    secret: SecretKey, signature_pub: bytes, form: ProofForm, now: int, rng: Rng
) -> tuple[Extension, ...]:
    if form is ProofForm.DRAFT:
        listed = ComponentsList.of(DRAFT_LEAF_APP_COMPONENTS).to_bytes()
        dictionary = AppDataDictionary.of({ComponentID.APP_COMPONENTS: listed})
        proof = create_draft_proof(secret, signature_pub, rng=rng)
        return (
            app_data_dictionary_extension(dictionary),
            Extension(DRAFT_PROOF_EXTENSION, proof),
        )
    current = create_identity_proof(secret, signature_pub, now, rng=rng)
    leaf_dictionary = AppDataDictionary.of(
        {
            ComponentID.APP_COMPONENTS: ComponentsList.of(LEAF_APP_COMPONENTS).to_bytes(),
            ComponentId.ACCOUNT_IDENTITY_PROOF: current,
        }
    )
    return (app_data_dictionary_extension(leaf_dictionary),)


def create_key_package_b(
    secret: SecretKey, *, now: int, rng: Rng, form: ProofForm = ProofForm.CURRENT
) -> KeyPackageBundle:
    """A last-resort Profile B KeyPackage for the account ``secret``, its leaf carrying the
    app_components list and a fresh proof made at ``now``: by default MDK master's (0x8009,
    draft-10 last-resort marking); ``ProofForm.DRAFT`` makes the e43fd5e client's (0xf2f1
    v1, OpenMLS 0.8.1's draft-08 marking 0x000a)."""
    suite = get_suite(CIPHER_SUITE)
    signature_priv, signature_pub = suite.generate_signature_key_pair(rng)
    marking = LastResortMarking.DRAFT_08 if form is ProofForm.DRAFT else LastResortMarking.DRAFT_10
    return create_key_package(
        CIPHER_SUITE,
        Credential.basic(secret.public_key().data),
        now=now,
        signature_priv=signature_priv,
        lifetime=DEFAULT_LIFETIME,
        capabilities=profile_b_capabilities(form),
        extensions=last_resort_extensions(marking),
        leaf_extensions=_leaf_extensions(secret, signature_pub, form, now, rng),
        rng=rng,
    )
