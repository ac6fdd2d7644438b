"""Profile B encrypted-media ``imeta`` references against MDK's golden and rejection
fixtures (``mdk/encrypted-media/imeta-v1.json``, ``imeta-v2.json``)."""

from __future__ import annotations

from typing import Any

import pytest

from marmot.errors import InvalidMedia
from marmot.profile_b.media import media_tag, parse_media_tag
from tests.vectors import load_json

pytestmark = [pytest.mark.darkmatter, pytest.mark.vectors]

FILES = ("imeta-v1.json", "imeta-v2.json")
CASES = [
    (name, case)
    for name in FILES
    for case in load_json(f"marmot-vectors/mdk/encrypted-media/{name}")["cases"]
]


def test_every_case_is_run() -> None:
    assert len(CASES) == 20
    assert sum(case["valid"] for _, case in CASES) == 8


@pytest.mark.parametrize(("file", "case"), CASES, ids=[f"{f}-{c['name']}" for f, c in CASES])
def test_imeta_fixture(file: str, case: dict[str, Any]) -> None:
    tag = case["tag"]
    if not case["valid"]:
        with pytest.raises(InvalidMedia) as info:
            parse_media_tag(tag)
        assert case["error_contains"] in info.value.reason
        return
    ref = parse_media_tag(tag)
    want = case["expected"]
    got = {
        "version": ref.version,
        "locators": [{"kind": loc.kind, "value": loc.value} for loc in ref.locators],
        "ciphertext_sha256": ref.ciphertext_sha256,
        "plaintext_sha256": ref.plaintext_sha256,
        "nonce_hex": ref.nonce_hex,
        "media_type": ref.media_type,
        "file_name": ref.file_name,
        "dim": ref.dim,
        "thumbhash": ref.thumbhash,
    }
    assert got == want
    assert list(media_tag(ref)) == tag  # exact wire round trip


def _golden(file: str) -> list[str]:
    case = next(c for f, c in CASES if f == file and c["name"] == "golden-image-full")
    return list(case["tag"])


def test_v1_blossom_hosts_must_be_public_https() -> None:
    tag = _golden("imeta-v1.json")
    url = tag[2].split(" ", 2)[2]
    for bad in ("http://media.example/", "https://127.0.0.1/", "https://10.0.0.1/"):
        local = [
            *tag[:2],
            "locator blossom-v1 " + url.replace("https://media.example/", bad),
            *tag[3:],
        ]
        with pytest.raises(InvalidMedia, match="unsafe"):
            parse_media_tag(local)
    loopback = [
        *tag[:2],
        "locator blossom-v1 " + url.replace("https://media.example/", "http://127.0.0.1/"),
        *tag[3:],
    ]
    assert (
        parse_media_tag(loopback, allow_loopback_http=True).locators[0].value.startswith("http://")
    )


def test_structural_rules_shared_by_both_versions() -> None:
    tag = _golden("imeta-v2.json")
    no_locator = [f for f in tag if not f.startswith("locator ")]
    with pytest.raises(InvalidMedia, match="at least one locator"):
        parse_media_tag(no_locator)
    with pytest.raises(InvalidMedia, match="missing its value"):
        parse_media_tag([*tag, "nonce"])
    with pytest.raises(InvalidMedia, match="imeta"):
        parse_media_tag(["media", *tag[1:]])
    odd = [*tag[:2], "locator ipfs-v1 ipfs://bafy", *tag[2:], "future-field x"]
    assert [loc.kind for loc in parse_media_tag(odd).locators] == ["ipfs-v1", "blossom-v1"]
    with pytest.raises(InvalidMedia, match="URL"):
        parse_media_tag([*tag[:2], "locator other-v1 not-a-url", *tag[2:]])
