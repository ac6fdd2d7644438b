"""KeyPackageRef and ProposalRef checked against references inside the official vectors:
each Welcome names its KeyPackage by ref, and commits name their proposals by ref."""

from __future__ import annotations

import pytest

from mls.crypto import get_suite
from mls.errors import UsageError
from mls.messages import (
    AuthenticatedContent,
    Commit,
    FramedContent,
    FramedContentAuthData,
    KeyPackage,
    MLSMessage,
    ProposalOrRefType,
    PublicMessage,
    Sender,
    Welcome,
    WireFormat,
)
from mls.refs import key_package_ref, proposal_ref
from tests.vectors import mls_vectors


def test_key_package_ref_matches_the_welcome_entries() -> None:
    for case in mls_vectors("welcome"):
        suite = get_suite(case["cipher_suite"])
        kp = MLSMessage.from_bytes(bytes.fromhex(case["key_package"])).body
        welcome = MLSMessage.from_bytes(bytes.fromhex(case["welcome"])).body
        assert isinstance(kp, KeyPackage) and isinstance(welcome, Welcome)
        ref = key_package_ref(suite, kp)
        assert ref == key_package_ref(suite, kp.to_bytes())
        assert ref in {s.new_member for s in welcome.secrets}


def test_proposal_refs_match_the_commits_references() -> None:
    checked = 0
    for case in mls_vectors("passive-client-handling-commit"):
        suite = get_suite(case["cipher_suite"])
        for epoch in case["epochs"]:
            if not epoch["proposals"]:
                continue
            refs = set()
            for raw in epoch["proposals"]:
                message = MLSMessage.from_bytes(bytes.fromhex(raw)).body
                assert isinstance(message, PublicMessage)
                ac = AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, message.content, message.auth)
                refs.add(proposal_ref(suite, ac))
            commit_msg = MLSMessage.from_bytes(bytes.fromhex(epoch["commit"])).body
            assert isinstance(commit_msg, PublicMessage)
            commit = commit_msg.content.content
            assert isinstance(commit, Commit)
            by_ref = {
                p.reference for p in commit.proposals if p.type == ProposalOrRefType.REFERENCE
            }
            assert by_ref == refs
            checked += len(refs)
    assert checked == 84  # the count README.md gives for this file


def test_only_proposals_have_a_proposal_ref() -> None:
    framed = FramedContent(b"g", 0, Sender.member(0), b"", b"app")
    ac = AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, framed, FramedContentAuthData(b"s"))
    with pytest.raises(UsageError):
        proposal_ref(get_suite(1), ac)
