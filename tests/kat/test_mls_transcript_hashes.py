"""transcript-hashes.json: confirmation tag and transcript hash update (RFC 9420 8.2, 6.1)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage
from mls.messages import AuthenticatedContent, Commit, ContentType
from mls.transcript import confirmation_tag, transcript_hashes_after, verify_confirmation_tag
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("transcript-hashes")
pytestmark = pytest.mark.vectors


@pytest.mark.parametrize("case", CASES, ids=case_ids("transcript-hashes", CASES))
def test_transcript_hashes(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])
    raw = bytes.fromhex(case["authenticated_content"])
    confirmation_key = bytes.fromhex(case["confirmation_key"])
    confirmed_after = bytes.fromhex(case["confirmed_transcript_hash_after"])

    content = AuthenticatedContent.from_bytes(raw)
    assert content.to_bytes() == raw
    assert content.content.content_type == ContentType.COMMIT
    assert isinstance(content.content.content, Commit)

    tag = content.auth.confirmation_tag
    assert tag is not None
    verify_confirmation_tag(suite, confirmation_key, confirmed_after, tag)
    assert confirmation_tag(suite, confirmation_key, confirmed_after) == tag
    with pytest.raises(InvalidMessage):
        verify_confirmation_tag(
            suite, confirmation_key, confirmed_after, bytes([tag[0] ^ 1]) + tag[1:]
        )

    confirmed, interim = transcript_hashes_after(
        suite, bytes.fromhex(case["interim_transcript_hash_before"]), content
    )
    assert confirmed == confirmed_after
    assert interim == bytes.fromhex(case["interim_transcript_hash_after"])
