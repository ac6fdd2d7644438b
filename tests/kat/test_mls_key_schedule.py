"""key-schedule.json: GroupContext, every epoch secret, external key, exporter (section 8)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.key_schedule import EpochSecrets, mls_exporter, welcome_secret
from mls.messages.group_info import GroupContext
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("key-schedule")
pytestmark = pytest.mark.vectors

h = bytes.fromhex

SECRETS = (
    "joiner_secret",
    "welcome_secret",
    "init_secret",
    "sender_data_secret",
    "encryption_secret",
    "exporter_secret",
    "epoch_authenticator",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
)


@pytest.mark.parametrize("case", CASES, ids=case_ids("key-schedule", CASES))
def test_key_schedule(case: dict[str, Any]) -> None:
    cs = case["cipher_suite"]
    suite = get_suite(cs)
    init_secret = h(case["initial_init_secret"])
    assert len(case["epochs"]) == 5
    for epoch, v in enumerate(case["epochs"]):
        context = GroupContext(
            1, cs, h(case["group_id"]), epoch, h(v["tree_hash"]), h(v["confirmed_transcript_hash"])
        ).to_bytes()
        assert context.hex() == v["group_context"]

        psk_secret = h(v["psk_secret"])
        secrets = EpochSecrets.advance(
            suite, init_secret, h(v["commit_secret"]), psk_secret, context
        )
        assert {name: getattr(secrets, name).hex() for name in SECRETS} == {
            name: v[name] for name in SECRETS
        }
        # A joiner holds only the joiner secret and reaches the same epoch.
        joined = EpochSecrets.from_joiner(suite, secrets.joiner_secret, psk_secret, context)
        assert joined == secrets
        assert welcome_secret(suite, secrets.joiner_secret, psk_secret) == secrets.welcome_secret

        assert secrets.external_key_pair(suite)[1].hex() == v["external_pub"]

        x = v["exporter"]
        exported = mls_exporter(
            suite, secrets.exporter_secret, x["label"], h(x["context"]), x["length"]
        )
        assert exported.hex() == x["secret"]
        assert secrets.exporter(suite, x["label"], h(x["context"]), x["length"]) == exported

        init_secret = secrets.init_secret
