"""RFC 9420 codepoints (section 17 registries and the enums of the struct definitions).

Closed enumerations are ``IntEnum``s that decoders enforce. The open IANA registries
(cipher suites, extension, proposal and credential types) are plain ``int`` fields on the
wire structs so unknown and GREASE values (section 13.5) survive a round trip; their
``IntEnum`` here only names the values we know.
"""

from __future__ import annotations

from enum import IntEnum


class ProtocolVersion(IntEnum):
    """``enum { reserved(0), mls10(1), (65535) } ProtocolVersion;``"""

    MLS10 = 1


class ContentType(IntEnum):
    """``enum { reserved(0), application(1), proposal(2), commit(3), (255) } ContentType;``"""

    APPLICATION = 1
    PROPOSAL = 2
    COMMIT = 3


class SenderType(IntEnum):
    """``enum { reserved(0), member(1), external(2), new_member_proposal(3),
    new_member_commit(4), (255) } SenderType;``"""

    MEMBER = 1
    EXTERNAL = 2
    NEW_MEMBER_PROPOSAL = 3
    NEW_MEMBER_COMMIT = 4


class WireFormat(IntEnum):
    """Section 17.2 ``WireFormat`` (uint16); a message of another format cannot be framed."""

    PUBLIC_MESSAGE = 1
    PRIVATE_MESSAGE = 2
    WELCOME = 3
    GROUP_INFO = 4
    KEY_PACKAGE = 5


class LeafNodeSource(IntEnum):
    """``enum { reserved(0), key_package(1), update(2), commit(3), (255) } LeafNodeSource;``"""

    KEY_PACKAGE = 1
    UPDATE = 2
    COMMIT = 3


class NodeType(IntEnum):
    """``enum { reserved(0), leaf(1), parent(2), (255) } NodeType;``"""

    LEAF = 1
    PARENT = 2


class PSKType(IntEnum):
    """``enum { reserved(0), external(1), resumption(2), (255) } PSKType;``"""

    EXTERNAL = 1
    RESUMPTION = 2


class ResumptionPSKUsage(IntEnum):
    """``enum { reserved(0), application(1), reinit(2), branch(3), (255) }``"""

    APPLICATION = 1
    REINIT = 2
    BRANCH = 3


class ProposalOrRefType(IntEnum):
    """``enum { reserved(0), proposal(1), reference(2), (255) } ProposalOrRefType;``"""

    PROPOSAL = 1
    REFERENCE = 2


class ExtensionType(IntEnum):
    """Section 17.3 extension types plus the ones Marmot relies on (open registry)."""

    APPLICATION_ID = 0x0001
    RATCHET_TREE = 0x0002
    REQUIRED_CAPABILITIES = 0x0003
    EXTERNAL_PUB = 0x0004
    EXTERNAL_SENDERS = 0x0005
    APP_DATA_DICTIONARY = 0x0006  # MLS extensions draft: the app component dictionary
    LAST_RESORT = 0x000A  # MLS extensions draft-08: a KeyPackage that may be reused
    MARMOT_GROUP_DATA = 0xF2EE  # Marmot MIP-01 group metadata


class ProposalType(IntEnum):
    """Section 17.4 proposal types plus SelfRemove of the MLS extensions draft."""

    ADD = 0x0001
    UPDATE = 0x0002
    REMOVE = 0x0003
    PSK = 0x0004
    REINIT = 0x0005
    EXTERNAL_INIT = 0x0006
    GROUP_CONTEXT_EXTENSIONS = 0x0007
    APP_DATA_UPDATE = 0x0008  # MLS extensions draft: change one app component's state
    SELF_REMOVE = 0x000A


class ComponentID(IntEnum):
    """MLS extensions draft ``uint16 ComponentID`` values of the draft itself (open
    registry: applications use the private range 0x8000..0xFFFF)."""

    APP_COMPONENTS = 0x0001  # ComponentsList: supported (leaf) / required (group) ids
    SAFE_AAD = 0x0002  # ComponentsList of the components that put items in SafeAAD
    LAST_RESORT_KEY_PACKAGE = 0x0004  # draft-10: empty entry in a KeyPackage's dictionary


class CredentialType(IntEnum):
    """Section 17.5 credential types (open registry)."""

    BASIC = 0x0001
    X509 = 0x0002


# Section 7.2: the types every client implements; capabilities need not (must not) list them.
DEFAULT_EXTENSION_TYPES = frozenset(range(0x0001, 0x0006))
DEFAULT_PROPOSAL_TYPES = frozenset(range(0x0001, 0x0008))

# Section 13.5: GREASE values look like 0x0A0A, 0x1A1A, ..., 0xEAEA in every open registry.
GREASE_VALUES = frozenset(0x0A0A + 0x1010 * i for i in range(15))


def is_grease(value: int) -> bool:
    return value in GREASE_VALUES
