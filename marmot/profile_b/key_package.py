"""Profile B KeyPackages: MLSMessage-framed, validated as MDK 0.9 (cgka-engine) does.

::

    kp = decode_key_package_message(raw)        # MLSMessage(wire_format=mls_key_package)
    verdict = lifetime_verdict(kp.leaf_node.lifetime, now)   # current / range / accepted
    validate_key_package_b(kp, now=now)         # signatures, lifetime, 0x8009 proof
    caps = key_package_capabilities(kp)         # what the 30443 tags must say

Differences from Profile A that matter here: the publication is the framed MLSMessage
(the ref is still over the bare KeyPackage); the lifetime range is capped at 84 d + 1 h
(OpenMLS refuses one second more, marmot-ts's Rust vector pins that) and no clock skew is
granted, as OpenMLS grants none; and the leaf must carry the 0x8009 proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from marmot.profile_b.errors import InvalidKeyPackage
from mls.app_data import app_data_dictionary, components_list
from mls.codec import decode_all
from mls.errors import DecodeError, MlsError
from mls.key_package import validate_key_package
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    ComponentID,
    KeyPackage,
    LeafNode,
    Lifetime,
    MLSMessage,
    is_grease,
)

LIFETIME_RANGE_CAP = 7_261_200
"""84 days + 1 hour: the widest ``not_after - not_before`` OpenMLS accepts."""
PRIVATE_USE_START = 0x8000

__all__ = [
    "LIFETIME_RANGE_CAP",
    "KeyPackageCapabilities",
    "LifetimeVerdict",
    "advertised_app_components",
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


def advertised_app_components(leaf: LeafNode) -> frozenset[int]:
    """The ids in the leaf's ``app_components`` entry (empty when there is none)."""
    try:
        dictionary = app_data_dictionary(leaf.extensions)
        data = None if dictionary is None else dictionary.get(ComponentID.APP_COMPONENTS)
        return frozenset() if data is None else frozenset(components_list(data).component_ids)
    except MlsError as exc:
        raise InvalidKeyPackage(f"leaf app data: {exc}") from None


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


def validate_key_package_b(key_package: KeyPackage, *, now: int) -> None:
    """Both signatures, structure, and the Profile B lifetime rule (no skew, range cap)."""
    try:
        validate_key_package(key_package, now=None, cipher_suite=0x0001)
    except MlsError as exc:
        raise InvalidKeyPackage(str(exc)) from None
    lifetime = key_package.leaf_node.lifetime
    assert lifetime is not None  # validate_key_package insists on a key_package leaf
    verdict = lifetime_verdict(lifetime, now)
    if not verdict.range_acceptable:
        raise InvalidKeyPackage("KeyPackage lifetime is longer than 84 days + 1 hour")
    if not verdict.current:
        raise InvalidKeyPackage("KeyPackage lifetime does not cover now")
