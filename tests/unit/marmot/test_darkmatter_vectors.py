"""Profile B against the bytes the Rust 0.9 engine produced (marmot-ts fixtures)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.key_package import (
    decode_key_package_message,
    encode_key_package_message,
    key_package_capabilities,
    lifetime_verdict,
    validate_key_package_b,
)
from mls.app_data import components_list
from mls.messages import AppDataDictionary, ComponentID, KeyPackage, Lifetime
from tests.vectors import load_json

pytestmark = [pytest.mark.darkmatter, pytest.mark.vectors]

KP_FILE = "marmot-vectors/marmot-ts/key-package-lifetime-rust.json"
AAD_FILE = "marmot-vectors/marmot-ts/safe-aad-rust.json"


def _vector() -> dict[str, Any]:
    data: dict[str, Any] = load_json(KP_FILE)
    return data


def _rust_kp() -> tuple[bytes, KeyPackage]:
    raw = bytes.fromhex(_vector()["lifetime"]["key_package_tls_hex"])
    return raw, decode_key_package_message(raw)


def test_rust_key_package_parses_and_reencodes_byte_for_byte() -> None:
    raw, kp = _rust_kp()
    assert hashlib.sha256(raw).hexdigest() == _vector()["lifetime"]["key_package_tls_sha256"]
    assert encode_key_package_message(kp) == raw
    life = kp.leaf_node.lifetime
    assert life == Lifetime(_vector()["lifetime"]["not_before"], _vector()["lifetime"]["not_after"])
    assert life.to_bytes().hex() == _vector()["lifetime"]["serialized_hex"]


def test_rust_key_package_validates_both_signatures_at_the_vector_time() -> None:
    _, kp = _rust_kp()
    validate_key_package_b(kp, now=_vector()["validation_time"])


def test_a_flipped_key_package_signature_is_refused() -> None:
    _, kp = _rust_kp()
    bad = dataclasses.replace(kp, signature=bytes([kp.signature[0] ^ 1]) + kp.signature[1:])
    with pytest.raises(InvalidKeyPackage, match="signature"):
        validate_key_package_b(bad, now=_vector()["validation_time"])


def test_a_flipped_leaf_signature_is_refused() -> None:
    _, kp = _rust_kp()
    leaf = kp.leaf_node
    bad_leaf = dataclasses.replace(
        leaf, signature=bytes([leaf.signature[0] ^ 1]) + leaf.signature[1:]
    )
    # the KeyPackage signature covers the leaf, so re-signing is impossible: both fail,
    # and the KeyPackage signature is checked first
    with pytest.raises(InvalidKeyPackage):
        validate_key_package_b(
            dataclasses.replace(kp, leaf_node=bad_leaf), now=_vector()["validation_time"]
        )


def test_key_package_is_refused_outside_its_lifetime() -> None:
    _, kp = _rust_kp()
    life = kp.leaf_node.lifetime
    assert life is not None
    with pytest.raises(InvalidKeyPackage, match="does not cover"):
        validate_key_package_b(kp, now=life.not_after + 1)
    with pytest.raises(InvalidKeyPackage, match="does not cover"):
        validate_key_package_b(kp, now=life.not_before - 1)


@pytest.mark.parametrize("case", ["accepted_cap", "expired", "not_yet_current", "one_over"])
def test_lifetime_boundaries_match_openmls_verdicts(case: str) -> None:
    v = _vector()["boundaries"][case]
    verdict = lifetime_verdict(
        Lifetime(v["not_before"], v["not_after"]), _vector()["validation_time"]
    )
    assert verdict.current == v["current"]
    assert verdict.range_acceptable == v["range_acceptable"]
    assert verdict.accepted == v["accepted"]


def test_rust_key_package_capabilities_match_the_projection() -> None:
    _, kp = _rust_kp()
    caps = key_package_capabilities(kp)
    want = _vector()["capabilities"]
    assert sorted(caps.extensions) == want["advertised_extensions"]
    assert sorted(caps.proposals) == want["advertised_proposals"]
    assert sorted(caps.app_components) == want["advertised_app_components"]
    assert sorted(caps.effective_extensions) == want["effective_extensions"]
    assert sorted(caps.effective_proposals) == want["effective_proposals"]


def test_rust_key_package_is_last_resort_in_the_draft_10_form() -> None:
    from mls.app_data import is_last_resort

    _, kp = _rust_kp()
    assert is_last_resort(kp)
    assert kp.extensions[0].extension_data == bytes.fromhex("03000400")


def test_safe_aad_entry_of_the_rust_dictionary() -> None:
    v = load_json(AAD_FILE)
    raw = bytes.fromhex(v["dictionary_hex"])
    assert hashlib.sha256(raw).hexdigest() == v["dictionary_sha256"]
    dictionary = AppDataDictionary.from_bytes(raw)
    assert dictionary.to_bytes() == raw
    assert [e.component_id for e in dictionary.entries] == [ComponentID.SAFE_AAD]
    entry = dictionary.get(ComponentID.SAFE_AAD)
    assert entry is not None and entry.hex() == v["safe_aad_hex"]
    assert components_list(entry).component_ids == ()  # an empty list: no SafeAAD items
    assert v["advertised_app_components"] == _vector()["capabilities"]["advertised_app_components"]
