"""crypto-basics.json: labeled hash, KDF, signature and HPKE helpers (RFC 9420 section 5)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("crypto-basics")
pytestmark = pytest.mark.vectors

h = bytes.fromhex


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


@pytest.mark.parametrize("case", CASES, ids=case_ids("crypto-basics", CASES))
def test_crypto_basics(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])

    v = case["ref_hash"]
    assert suite.ref_hash(v["label"], h(v["value"])).hex() == v["out"]

    v = case["expand_with_label"]
    out = suite.expand_with_label(h(v["secret"]), v["label"], h(v["context"]), v["length"])
    assert out.hex() == v["out"]

    v = case["derive_secret"]
    assert suite.derive_secret(h(v["secret"]), v["label"]).hex() == v["out"]

    v = case["derive_tree_secret"]
    out = suite.derive_tree_secret(h(v["secret"]), v["label"], v["generation"], v["length"])
    assert out.hex() == v["out"]

    v = case["sign_with_label"]
    pub, label, content = h(v["pub"]), v["label"], h(v["content"])
    assert suite.signature_public_key(h(v["priv"])) == pub
    suite.verify_with_label(pub, label, content, h(v["signature"]))
    fresh = suite.sign_with_label(h(v["priv"]), label, content)
    suite.verify_with_label(pub, label, content, fresh)
    with pytest.raises(InvalidMessage):
        suite.verify_with_label(pub, label, _flip(content), h(v["signature"]))
    with pytest.raises(InvalidMessage):
        suite.verify_with_label(pub, label + "x", content, fresh)

    v = case["encrypt_with_label"]
    priv, pub, label, context = h(v["priv"]), h(v["pub"]), v["label"], h(v["context"])
    plaintext = h(v["plaintext"])
    assert suite.hpke_public_key(priv) == pub
    kem_output, ciphertext = h(v["kem_output"]), h(v["ciphertext"])
    assert suite.decrypt_with_label(priv, label, context, kem_output, ciphertext) == plaintext
    kem_output2, ciphertext2 = suite.encrypt_with_label(pub, label, context, plaintext)
    assert suite.decrypt_with_label(priv, label, context, kem_output2, ciphertext2) == plaintext
    with pytest.raises(InvalidMessage):
        suite.decrypt_with_label(priv, label, _flip(context), kem_output, ciphertext)
