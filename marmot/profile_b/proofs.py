"""Which account identity proof a Profile B leaf or group uses, and checking it.

Two forms are deployed (docs/darkmatter.md, "Draft vs deployed differences"):

* ``CURRENT``: the 0x8009 leaf component (MDK master, ``identity_proof.py``); a group
  requires it by listing 0x8009 in its ``app_components``;
* ``DRAFT``: the July draft's LeafNode extension 0xf2f1 v1 (the e43fd5e Dark Matter
  client, ``draft_proof.py``); a group requires it by listing 0xf2f1 in its
  ``required_capabilities`` extension types.

A leaf or group is exactly one of them (both or neither is refused, as both engines
refuse it), and every leaf of a group carries the group's form: a Burrow member joins,
invites and commits in whatever form the group was founded with.

::

    form = group_proof_form(state.extensions)     # CURRENT | DRAFT, or InvalidComponent
    verify_leaf_proof(leaf, form)                  # or InvalidIdentityProof
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from marmot.profile_b.components import ComponentId
from marmot.profile_b.draft_proof import EXTENSION as DRAFT_EXTENSION
from marmot.profile_b.draft_proof import verify_draft_proof
from marmot.profile_b.errors import InvalidComponent, InvalidIdentityProof
from marmot.profile_b.identity_proof import verify_leaf_identity_proof
from mls.app_data import app_data_dictionary, components_list
from mls.codec import decode_all
from mls.errors import DecodeError, MlsError
from mls.messages import (
    ComponentID,
    Extension,
    ExtensionType,
    LeafNode,
    RequiredCapabilities,
    find_extension,
)

__all__ = ["ProofForm", "group_proof_form", "leaf_proof_form", "verify_leaf_proof"]


class ProofForm(Enum):
    CURRENT = "0x8009"
    DRAFT = "0xf2f1"


def leaf_proof_form(leaf: LeafNode) -> ProofForm:
    draft = any(e.extension_type == DRAFT_EXTENSION for e in leaf.extensions)
    try:
        dictionary = app_data_dictionary(leaf.extensions)
    except MlsError as exc:
        raise InvalidIdentityProof(f"leaf app data: {exc}") from None
    current = (
        dictionary is not None and dictionary.get(ComponentId.ACCOUNT_IDENTITY_PROOF) is not None
    )
    if draft and current:
        raise InvalidIdentityProof("the leaf mixes the 0xf2f1 proof with 0x8009")
    if not (draft or current):
        raise InvalidIdentityProof("the leaf carries neither a 0xf2f1 nor a 0x8009 proof")
    return ProofForm.DRAFT if draft else ProofForm.CURRENT


def verify_leaf_proof(leaf: LeafNode, form: ProofForm | None = None) -> ProofForm:
    """Check the leaf's proof; with ``form`` (the group's), the leaf must use that one."""
    found = leaf_proof_form(leaf)
    if form is not None and found is not form:
        raise InvalidIdentityProof(f"a {found.value} proof in a {form.value} group")
    if found is ProofForm.DRAFT:
        verify_draft_proof(leaf)
    else:
        verify_leaf_identity_proof(leaf)
    return found


def _required_extension_types(extensions: Sequence[Extension]) -> tuple[int, ...]:
    ext = find_extension(extensions, ExtensionType.REQUIRED_CAPABILITIES)
    if ext is None:
        return ()
    try:
        return decode_all(ext.extension_data, RequiredCapabilities.decode).extension_types
    except DecodeError as exc:
        raise InvalidComponent(f"required_capabilities does not parse: {exc}") from None


def group_proof_form(extensions: Sequence[Extension]) -> ProofForm:
    """The form a GroupContext requires of its leaves (MDK master's classification)."""
    draft = DRAFT_EXTENSION in _required_extension_types(extensions)
    try:
        dictionary = app_data_dictionary(extensions)
        listed = None if dictionary is None else dictionary.get(ComponentID.APP_COMPONENTS)
        ids = () if listed is None else components_list(listed).component_ids
    except MlsError as exc:
        raise InvalidComponent(f"group app data: {exc}") from None
    current = ComponentId.ACCOUNT_IDENTITY_PROOF in ids
    if draft == current:
        raise InvalidComponent(
            "the group requires both proof forms" if draft else "the group requires no proof"
        )
    return ProofForm.DRAFT if draft else ProofForm.CURRENT
