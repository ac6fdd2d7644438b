"""KeyPackages (RFC 9420 section 10) and the leaf-node checks that need no group.

API::

    bundle = create_key_package(cs, credential, now=now, rng=rng)   # KeyPackageBundle
    bundle.key_package, bundle.private (KeyPackagePrivate), bundle.ref
    validate_key_package(kp, now=now, cipher_suite=cs)              # raises InvalidMessage
    key_package_ref(suite, kp)                                      # KeyPackageRef
    sign_leaf_node(suite, leaf, signature_priv, group_id, leaf_index)
    verify_leaf_node_signature(suite, leaf, group_id, leaf_index)
    check_lifetime(lifetime, now, clock_skew)

A KeyPackage's lifetime starts an hour in the past by default (``not_before = now - 1 h``)
because peers with a slightly fast clock, or that compare with ``>``, would otherwise
refuse a KeyPackage minted this second. ``grease=True`` adds random GREASE values
(section 13.5) to the capabilities so that peers learn to ignore unknown values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from mls.crypto import DEFAULT_RNG, Suite, get_suite
from mls.errors import InvalidMessage, UsageError
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    GREASE_VALUES,
    Capabilities,
    Credential,
    Extension,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    ProtocolVersion,
)
from mls.refs import key_package_ref
from mls.types import Rng

DEFAULT_LIFETIME = 7_257_600
"""84 days: the OpenMLS default, which Marmot peers expect (they refuse > 84 d + 1 h)."""
NOT_BEFORE_MARGIN = 3600
DEFAULT_CLOCK_SKEW = 300
"""Seconds of clock difference tolerated at both ends of a lifetime."""

_GREASE = tuple(sorted(GREASE_VALUES))

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_LIFETIME",
    "KeyPackageBundle",
    "KeyPackagePrivate",
    "check_lifetime",
    "create_key_package",
    "default_capabilities",
    "key_package_ref",
    "sign_leaf_node",
    "validate_key_package",
    "verify_leaf_node_signature",
]


@dataclass(frozen=True, slots=True)
class KeyPackagePrivate:
    """The private halves a KeyPackage's owner keeps until it joins (never printed)."""

    init_priv: bytes = field(repr=False)
    encryption_priv: bytes = field(repr=False)
    signature_priv: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyPackageBundle:
    """A KeyPackage, its private keys and its KeyPackageRef."""

    key_package: KeyPackage
    private: KeyPackagePrivate
    ref: bytes


def default_capabilities(
    cipher_suite: int,
    credential_type: int,
    extension_types: Sequence[int] = (),
    proposal_types: Sequence[int] = (),
) -> Capabilities:
    """Capabilities listing our version, suite and credential type, and every
    non-default extension type we use (section 7.2 requires that)."""
    extensions = tuple(
        dict.fromkeys(t for t in extension_types if t not in DEFAULT_EXTENSION_TYPES)
    )
    return Capabilities(
        versions=(ProtocolVersion.MLS10,),
        cipher_suites=(cipher_suite,),
        extensions=extensions,
        proposals=tuple(dict.fromkeys(proposal_types)),
        credentials=(credential_type,),
    )


def _greased(caps: Capabilities, rng: Rng) -> Capabilities:
    """Add one random GREASE value to each open-registry list that has none yet."""

    def add(values: tuple[int, ...]) -> tuple[int, ...]:
        if any(v in GREASE_VALUES for v in values):
            return values
        return (*values, _GREASE[rng(1)[0] % len(_GREASE)])

    return Capabilities(
        caps.versions,
        add(caps.cipher_suites),
        add(caps.extensions),
        add(caps.proposals),
        add(caps.credentials),
    )


def sign_leaf_node(
    suite: Suite,
    leaf: LeafNode,
    signature_priv: bytes,
    group_id: bytes = b"",
    leaf_index: int = 0,
) -> LeafNode:
    """``leaf`` with its signature over ``LeafNodeTBS`` (group id and leaf index are
    part of it for update and commit leaves)."""
    signature = suite.sign_with_label(signature_priv, "LeafNodeTBS", leaf.tbs(group_id, leaf_index))
    return dataclasses.replace(leaf, signature=signature)


def verify_leaf_node_signature(
    suite: Suite, leaf: LeafNode, group_id: bytes = b"", leaf_index: int = 0
) -> None:
    try:
        suite.verify_with_label(
            leaf.signature_key, "LeafNodeTBS", leaf.tbs(group_id, leaf_index), leaf.signature
        )
    except InvalidMessage:
        raise InvalidMessage("leaf node signature does not verify") from None


def check_lifetime(lifetime: Lifetime, now: int, clock_skew: int = DEFAULT_CLOCK_SKEW) -> None:
    """Raise unless ``now`` lies in the lifetime, give or take ``clock_skew`` seconds."""
    if not lifetime.not_before - clock_skew <= now <= lifetime.not_after + clock_skew:
        raise InvalidMessage(
            f"lifetime [{lifetime.not_before}, {lifetime.not_after}] does not cover {now}"
        )


def create_key_package(
    cipher_suite: int,
    credential: Credential,
    *,
    now: int,
    signature_priv: bytes | None = None,
    lifetime: int = DEFAULT_LIFETIME,
    capabilities: Capabilities | None = None,
    extensions: Sequence[Extension] = (),
    leaf_extensions: Sequence[Extension] = (),
    grease: bool = False,
    rng: Rng = DEFAULT_RNG,
) -> KeyPackageBundle:
    """A fresh KeyPackage for ``credential``; a signature key is generated unless given.

    ``capabilities`` defaults to :func:`default_capabilities` for the extensions used.
    """
    suite = get_suite(cipher_suite)
    if lifetime <= 0:
        raise UsageError("a KeyPackage lifetime must be positive")
    if signature_priv is None:
        signature_priv, signature_pub = suite.generate_signature_key_pair(rng)
    else:
        signature_pub = suite.signature_public_key(signature_priv)
    init_priv, init_pub = suite.generate_hpke_key_pair(rng)
    encryption_priv, encryption_pub = suite.generate_hpke_key_pair(rng)
    if capabilities is None:
        used = [e.extension_type for e in (*extensions, *leaf_extensions)]
        capabilities = default_capabilities(cipher_suite, credential.credential_type, used)
    if grease:
        capabilities = _greased(capabilities, rng)
    leaf = LeafNode(
        encryption_pub,
        signature_pub,
        credential,
        capabilities,
        LeafNodeSource.KEY_PACKAGE,
        tuple(leaf_extensions),
        b"",
        lifetime=Lifetime(max(0, now - NOT_BEFORE_MARGIN), now + lifetime),
    )
    leaf = sign_leaf_node(suite, leaf, signature_priv)
    unsigned = KeyPackage(
        ProtocolVersion.MLS10, cipher_suite, init_pub, leaf, tuple(extensions), b""
    )
    signature = suite.sign_with_label(signature_priv, "KeyPackageTBS", unsigned.tbs())
    key_package = dataclasses.replace(unsigned, signature=signature)
    private = KeyPackagePrivate(init_priv, encryption_priv, signature_priv)
    return KeyPackageBundle(key_package, private, key_package_ref(suite, key_package))


def validate_key_package(
    key_package: KeyPackage,
    *,
    now: int | None,
    cipher_suite: int | None = None,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    check_leaf: bool = True,
) -> Suite:
    """Section 10.1 checks that need no group; returns the KeyPackage's suite.

    Version mls10, a suite we implement (and ``cipher_suite`` when given), both
    signatures, ``leaf_node_source = key_package``, the lifetime (skipped when ``now`` is
    None), every leaf extension listed in the capabilities, and init key != leaf key.
    Unknown and GREASE values in the capabilities are accepted. ``check_leaf=False``
    leaves the leaf's signature and extension list to a caller that validates the leaf
    against a group anyway (:func:`mls.tree_validation.validate_leaf_node`).
    """
    if key_package.version != ProtocolVersion.MLS10:
        raise InvalidMessage(f"KeyPackage version {key_package.version} is not mls10")
    if cipher_suite is not None and key_package.cipher_suite != cipher_suite:
        raise InvalidMessage(
            f"KeyPackage suite 0x{key_package.cipher_suite:04x} is not 0x{cipher_suite:04x}"
        )
    suite = get_suite(key_package.cipher_suite)  # UnsupportedError for a suite we lack
    leaf = key_package.leaf_node
    try:
        suite.verify_with_label(
            leaf.signature_key, "KeyPackageTBS", key_package.tbs(), key_package.signature
        )
    except InvalidMessage:
        raise InvalidMessage("KeyPackage signature does not verify") from None
    if leaf.leaf_node_source != LeafNodeSource.KEY_PACKAGE or leaf.lifetime is None:
        raise InvalidMessage("a KeyPackage's leaf node must have leaf_node_source key_package")
    if check_leaf:
        verify_leaf_node_signature(suite, leaf)
        check_extensions_listed(leaf)
    if now is not None:
        check_lifetime(leaf.lifetime, now, clock_skew)
    if key_package.init_key == leaf.encryption_key:
        raise InvalidMessage("KeyPackage init_key equals its leaf encryption_key")
    return suite


def check_extensions_listed(leaf: LeafNode) -> None:
    """Section 7.3: every non-default extension of a leaf is in its capabilities."""
    listed = leaf.capabilities.extensions
    for ext in leaf.extensions:
        if ext.extension_type not in DEFAULT_EXTENSION_TYPES and ext.extension_type not in listed:
            raise InvalidMessage(
                f"leaf extension 0x{ext.extension_type:04x} is not in its capabilities"
            )
