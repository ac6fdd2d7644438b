"""Hash references (RFC 9420 section 5.2): KeyPackageRef and ProposalRef.

::

    KeyPackageRef = MakeKeyPackageRef(value) = RefHash("MLS 1.0 KeyPackage Reference", value)
    ProposalRef   = MakeProposalRef(value)   = RefHash("MLS 1.0 Proposal Reference", value)

``value`` is the encoded KeyPackage, respectively the encoded AuthenticatedContent that
carried the proposal.
"""

from __future__ import annotations

from mls.crypto import Suite
from mls.errors import UsageError
from mls.messages import AuthenticatedContent, ContentType, KeyPackage


def key_package_ref(suite: Suite, key_package: KeyPackage | bytes) -> bytes:
    """The KeyPackageRef of a KeyPackage (or of its encoding, to avoid re-encoding)."""
    value = key_package if isinstance(key_package, bytes) else key_package.to_bytes()
    return suite.ref_hash("MLS 1.0 KeyPackage Reference", value)


def proposal_ref(suite: Suite, content: AuthenticatedContent | bytes) -> bytes:
    """The ProposalRef of a proposal, from the AuthenticatedContent that carried it."""
    if isinstance(content, bytes):
        return suite.ref_hash("MLS 1.0 Proposal Reference", content)
    if content.content.content_type != ContentType.PROPOSAL:
        raise UsageError("only proposals have a ProposalRef")
    return suite.ref_hash("MLS 1.0 Proposal Reference", content.to_bytes())
