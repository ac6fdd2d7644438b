"""welcome.json: Welcome decryption, GroupInfo signature and confirmation tag (RFC 9420
sections 12.4.3.1, 12.4.1, 8). One item per case, every cipher suite."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage
from mls.key_schedule import EpochSecrets, psk_secret, welcome_secret
from mls.messages import KeyPackage, MLSMessage, Welcome
from mls.refs import key_package_ref
from mls.transcript import confirmation_tag, verify_confirmation_tag
from mls.welcome_crypto import decrypt_group_info, decrypt_group_secrets, verify_group_info
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("welcome")
pytestmark = pytest.mark.vectors


@pytest.mark.parametrize("case", CASES, ids=case_ids("welcome", CASES))
def test_welcome(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])
    key_package = MLSMessage.from_bytes(bytes.fromhex(case["key_package"])).body
    welcome = MLSMessage.from_bytes(bytes.fromhex(case["welcome"])).body
    assert isinstance(key_package, KeyPackage)
    assert isinstance(welcome, Welcome)
    assert welcome.cipher_suite == case["cipher_suite"]

    ref = key_package_ref(suite, key_package)
    secrets = decrypt_group_secrets(suite, welcome, ref, bytes.fromhex(case["init_priv"]))
    assert secrets.psks == ()
    no_psk = psk_secret(suite, [])
    group_info = decrypt_group_info(
        suite, welcome, welcome_secret(suite, secrets.joiner_secret, no_psk)
    )
    signer_pub = bytes.fromhex(case["signer_pub"])
    verify_group_info(suite, group_info, signer_pub)

    context = group_info.group_context
    epoch = EpochSecrets.from_joiner(suite, secrets.joiner_secret, no_psk, context.to_bytes())
    confirmed = context.confirmed_transcript_hash
    verify_confirmation_tag(suite, epoch.confirmation_key, confirmed, group_info.confirmation_tag)
    assert confirmation_tag(suite, epoch.confirmation_key, confirmed) == group_info.confirmation_tag

    # Negative checks: a different KeyPackage ref, a tampered signature, a wrong init key.
    with pytest.raises(InvalidMessage):
        decrypt_group_secrets(suite, welcome, bytes(len(ref)), bytes.fromhex(case["init_priv"]))
    bad = dataclasses.replace(group_info, signer=group_info.signer ^ 1)
    with pytest.raises(InvalidMessage):
        verify_group_info(suite, bad, signer_pub)
    other_priv, _ = suite.generate_hpke_key_pair()
    with pytest.raises(InvalidMessage):
        decrypt_group_secrets(suite, welcome, ref, other_priv)
