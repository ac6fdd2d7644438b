"""KeyPackages (RFC 9420 section 10): creation, GREASE, lifetimes and every validation."""

from __future__ import annotations

import dataclasses

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage, UnsupportedError
from mls.extensions import last_resort_extension
from mls.key_package import (
    DEFAULT_LIFETIME,
    create_key_package,
    sign_leaf_node,
    validate_key_package,
)
from mls.messages import (
    GREASE_VALUES,
    Capabilities,
    Credential,
    ExtensionType,
    KeyPackage,
    LeafNodeSource,
    MLSMessage,
)
from mls.refs import key_package_ref
from tests.helpers.mls_members import NOW, seeded_rng

ALICE = Credential.basic(b"alice")


def _resign(kp: KeyPackage, priv: bytes, **changes: object) -> KeyPackage:
    """``kp`` with changed fields and a fresh, valid KeyPackage signature."""
    suite = get_suite(kp.cipher_suite)
    changed = dataclasses.replace(kp, **changes)  # type: ignore[arg-type]
    signature = suite.sign_with_label(priv, "KeyPackageTBS", changed.tbs())
    return dataclasses.replace(changed, signature=signature)


@pytest.mark.parametrize("cs", range(1, 8))
def test_create_and_validate(cs: int) -> None:
    bundle = create_key_package(cs, ALICE, now=NOW, rng=seeded_rng(cs))
    kp = bundle.key_package
    assert validate_key_package(kp, now=NOW, cipher_suite=cs).cipher_suite == cs
    assert bundle.ref == key_package_ref(get_suite(cs), kp)
    life = kp.leaf_node.lifetime
    assert life is not None
    assert (life.not_before, life.not_after) == (NOW - 3600, NOW + DEFAULT_LIFETIME)
    assert kp.leaf_node.capabilities.cipher_suites == (cs,)
    assert MLSMessage.from_bytes(MLSMessage(kp).to_bytes()).body == kp


def test_grease_and_last_resort() -> None:
    bundle = create_key_package(
        1, ALICE, now=NOW, extensions=[last_resort_extension()], grease=True, rng=seeded_rng(2)
    )
    caps = bundle.key_package.leaf_node.capabilities
    for values in (caps.cipher_suites, caps.extensions, caps.proposals, caps.credentials):
        assert any(v in GREASE_VALUES for v in values)
    assert ExtensionType.LAST_RESORT in caps.extensions
    validate_key_package(bundle.key_package, now=NOW)


def test_unknown_capability_values_are_accepted() -> None:
    caps = Capabilities((1, 0x7777), (1, 0x1234), (0xF2EE, 0x8888), (0x000A, 0x9999), (1, 0xAAAA))
    bundle = create_key_package(1, ALICE, now=NOW, capabilities=caps, rng=seeded_rng(3))
    validate_key_package(bundle.key_package, now=NOW, cipher_suite=1)


def test_lifetime_with_clock_skew() -> None:
    kp = create_key_package(1, ALICE, now=NOW, lifetime=1000, rng=seeded_rng(4)).key_package
    validate_key_package(kp, now=NOW - 3600 - 299)
    validate_key_package(kp, now=NOW + 1000 + 299)
    for now in (NOW - 3600 - 301, NOW + 1000 + 301):
        with pytest.raises(InvalidMessage, match="lifetime"):
            validate_key_package(kp, now=now)
    validate_key_package(kp, now=None)  # no clock: no lifetime check


def test_rejections() -> None:
    bundle = create_key_package(1, ALICE, now=NOW, rng=seeded_rng(5))
    kp, priv = bundle.key_package, bundle.private.signature_priv
    suite = get_suite(1)
    with pytest.raises(InvalidMessage, match="signature"):
        validate_key_package(dataclasses.replace(kp, signature=bytes(64)), now=NOW)
    with pytest.raises(InvalidMessage, match="version"):
        validate_key_package(_resign(kp, priv, version=2), now=NOW)
    with pytest.raises(InvalidMessage, match="suite"):
        validate_key_package(kp, now=NOW, cipher_suite=2)
    with pytest.raises(UnsupportedError):
        validate_key_package(_resign(kp, priv, cipher_suite=0x0A0A), now=NOW)
    same_key = _resign(kp, priv, init_key=kp.leaf_node.encryption_key)
    with pytest.raises(InvalidMessage, match="init_key"):
        validate_key_package(same_key, now=NOW)
    bad_leaf = dataclasses.replace(kp.leaf_node, signature=bytes(64))
    with pytest.raises(InvalidMessage, match="leaf node signature"):
        validate_key_package(_resign(kp, priv, leaf_node=bad_leaf), now=NOW)
    update_leaf = dataclasses.replace(
        kp.leaf_node, leaf_node_source=LeafNodeSource.UPDATE, lifetime=None
    )
    update_leaf = sign_leaf_node(suite, update_leaf, priv, b"group", 0)
    with pytest.raises(InvalidMessage, match="leaf_node_source"):
        validate_key_package(_resign(kp, priv, leaf_node=update_leaf), now=NOW)
    unlisted = dataclasses.replace(kp.leaf_node, extensions=(last_resort_extension(),))
    unlisted = sign_leaf_node(suite, unlisted, priv)
    with pytest.raises(InvalidMessage, match="capabilities"):
        validate_key_package(_resign(kp, priv, leaf_node=unlisted), now=NOW)


def test_private_keys_match_and_stay_out_of_repr() -> None:
    bundle = create_key_package(2, ALICE, now=NOW, rng=seeded_rng(6))
    suite, kp, private = get_suite(2), bundle.key_package, bundle.private
    assert suite.hpke_public_key(private.init_priv) == kp.init_key
    assert suite.hpke_public_key(private.encryption_priv) == kp.leaf_node.encryption_key
    assert suite.signature_public_key(private.signature_priv) == kp.leaf_node.signature_key
    for secret in (private.init_priv, private.encryption_priv, private.signature_priv):
        assert secret.hex() not in repr(bundle) and repr(secret) not in repr(bundle)
