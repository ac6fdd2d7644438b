"""NIP-49's own test data: the spec's ncryptsec opened with 'nostr' (log_n 16), and the
draft-irtf-cfrg-xchacha HChaCha20 vector (section 2.2.1) for the subkey step alone."""

from __future__ import annotations

from nostr import nip49

SPEC_NCRYPTSEC = (
    "ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6y"
    "phnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p"
)
SPEC_SECRET = "3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683"


def test_spec_vector_decrypts() -> None:
    opened = nip49.decrypt(SPEC_NCRYPTSEC, "nostr")
    assert opened.secret.secret_hex() == SPEC_SECRET
    assert opened.log_n == 16


def test_hchacha20_draft_vector() -> None:
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    expected = "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    assert nip49.hchacha20(key, nonce).hex() == expected
