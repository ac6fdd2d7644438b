"""MIP-01 ``marmot_group_data`` (0xF2EE) byte fixtures.

Source: ``../shared/marmot-vectors/extracted/mip01-group-data-v2-mdk-interop.json`` (MDK
tls_codec output pinned by Amethyst's interop tests), plus the worked version 3 example of
marmot.md section 3.2.
"""

from __future__ import annotations

from typing import Any

import pytest

from marmot.group_data import NostrGroupData
from tests.vectors import load_json

pytestmark = pytest.mark.vectors

FIXTURES: list[dict[str, Any]] = load_json(
    "marmot-vectors/extracted/mip01-group-data-v2-mdk-interop.json"
)["cases"]


def _optional_hex(value: bytes | None) -> str:
    return "" if value is None else value.hex()


@pytest.mark.parametrize("case", FIXTURES, ids=[c["name"] for c in FIXTURES])
def test_mdk_fixture_decodes_to_its_fields(case: dict[str, Any]) -> None:
    data = NostrGroupData.from_bytes(bytes.fromhex(case["hex"]))
    want = case["decoded"]
    assert data.version == want["version"]
    assert data.nostr_group_id.hex() == want["nostr_group_id"]
    assert data.name == want["name"]
    assert data.description == want["description"]
    assert [a.hex() for a in data.admins] == want["admin_pubkeys"]
    assert list(data.relays) == want["relays"]
    for name in ("image_hash", "image_key", "image_nonce", "image_upload_key"):
        assert _optional_hex(getattr(data, name)) == want[name]
    assert data.disappearing_message_secs is None


@pytest.mark.parametrize("case", FIXTURES, ids=[c["name"] for c in FIXTURES])
def test_mdk_fixture_is_reproduced_from_its_fields(case: dict[str, Any]) -> None:
    want = case["decoded"]
    data = NostrGroupData(
        bytes.fromhex(want["nostr_group_id"]),
        want["name"],
        want["description"],
        tuple(bytes.fromhex(a) for a in want["admin_pubkeys"]),
        tuple(want["relays"]),
    )
    assert data.to_bytes().hex() == case["hex"]


V3_EXAMPLE = (
    "0003"
    + "22" * 32
    + "04"
    + b"Team".hex()
    + "00"
    + "20"
    + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    + "18"
    + "17"
    + b"wss://relay.example.com".hex()
    + "00000000"
    + "08"
    + "0000000000015180"
)


def test_worked_v3_example() -> None:
    data = NostrGroupData(
        b"\x22" * 32,
        "Team",
        "",
        (bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),),
        ("wss://relay.example.com",),
        disappearing_message_secs=86400,
    )
    encoded = data.to_bytes()
    assert len(encoded) == 111
    assert encoded.hex() == V3_EXAMPLE
    decoded = NostrGroupData.from_bytes(encoded)
    assert decoded.version == 3
    assert decoded.disappearing_message_secs == 86400
    assert decoded == data.updated(version=3)
