"""psk_secret.json: chaining 0 to 10 external PSKs into psk_secret (RFC 9420 section 8.4)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.key_schedule import psk_secret
from mls.messages.proposals import PreSharedKeyID
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("psk_secret")
pytestmark = pytest.mark.vectors

h = bytes.fromhex


@pytest.mark.parametrize("case", CASES, ids=case_ids("psk_secret", CASES))
def test_psk_secret(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])
    psks = [
        (PreSharedKeyID.external(h(p["psk_id"]), h(p["psk_nonce"])), h(p["psk"]))
        for p in case["psks"]
    ]
    assert psk_secret(suite, psks).hex() == case["psk_secret"]
    if not psks:
        assert psk_secret(suite, psks) == bytes(suite.nh)
