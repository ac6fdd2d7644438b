"""What the engine does with the app data of the MLS extensions draft.

::

    app_data_dictionary(extensions) -> AppDataDictionary | None    # extension 0x0006
    app_data_dictionary_extension(dictionary) -> Extension
    components_list(data) -> ComponentsList                         # app_components, safe_aad
    check_app_data_updates(proposals, context_extensions)           # section 4.7 list rules
    apply_app_data_updates(extensions, updates) -> extensions       # replace / remove
    is_last_resort(key_package) -> bool                             # draft-08 or draft-10
    last_resort_extensions(marking) -> (Extension, ...)
    split_safe_aad(authenticated_data, safe_aad) -> (SafeAAD, rest)

Updates replace a component's data (or remove it): the draft lets each component define
how an update combines with its prior state, and every component Marmot uses is a full
replacement, so that is the rule here. The component's own validation is the
application's job (``marmot.profile_b``).

Last-resort marking changed between drafts: draft-08 (OpenMLS 0.8.1, the Dark Matter
draft client) marks a KeyPackage with the empty ``last_resort`` extension 0x000A; draft-10
(the OpenMLS fork MDK 0.9 pins) with an empty component 0x0004 in an
``app_data_dictionary`` KeyPackage extension. We read both and write either.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from mls.codec import Reader
from mls.errors import DecodeError, InvalidMessage
from mls.messages import (
    AppDataDictionary,
    AppDataUpdate,
    AppDataUpdateOperation,
    ComponentID,
    ComponentsList,
    Extension,
    ExtensionType,
    GroupContextExtensions,
    KeyPackage,
    Proposal,
    ProposalType,
    RequiredCapabilities,
    SafeAAD,
    find_extension,
)

__all__ = [
    "LastResortMarking",
    "app_data_dictionary",
    "app_data_dictionary_extension",
    "apply_app_data_updates",
    "check_app_data_updates",
    "components_list",
    "is_last_resort",
    "last_resort_extensions",
    "replace_extension",
    "split_safe_aad",
]


class LastResortMarking(Enum):
    DRAFT_08 = "draft-08"  # extension 0x000A
    DRAFT_10 = "draft-10"  # component 0x0004 in the KeyPackage's app_data_dictionary


def app_data_dictionary(extensions: Sequence[Extension]) -> AppDataDictionary | None:
    ext = find_extension(extensions, ExtensionType.APP_DATA_DICTIONARY)
    if ext is None:
        return None
    try:
        return AppDataDictionary.from_bytes(ext.extension_data)
    except DecodeError as exc:
        raise InvalidMessage(f"app_data_dictionary does not parse: {exc}") from None


def app_data_dictionary_extension(dictionary: AppDataDictionary) -> Extension:
    return Extension(ExtensionType.APP_DATA_DICTIONARY, dictionary.to_bytes())


def components_list(data: bytes) -> ComponentsList:
    try:
        return ComponentsList.from_bytes(data)
    except DecodeError as exc:
        raise InvalidMessage(f"component list does not parse: {exc}") from None


def check_app_data_updates(
    proposals: Sequence[Proposal], context_extensions: Sequence[Extension]
) -> None:
    """The draft's rules for the AppDataUpdates of one commit (section 4.7).

    No GroupContextExtensions after an AppDataUpdate; a GroupContextExtensions may not
    touch the dictionary once the group requires ``app_data_update``; per component at
    most one remove, never a remove beside an update.
    """
    updates = [p for p in proposals if isinstance(p, AppDataUpdate)]
    if not updates:
        return
    seen_update = False
    for p in proposals:
        if isinstance(p, AppDataUpdate):
            seen_update = True
        elif isinstance(p, GroupContextExtensions):
            if seen_update:
                raise InvalidMessage("a GroupContextExtensions follows an AppDataUpdate")
            _check_gce_keeps_dictionary(p, context_extensions)
    ops: dict[int, set[AppDataUpdateOperation]] = {}
    for u in updates:
        kinds = ops.setdefault(u.component_id, set())
        if u.op == AppDataUpdateOperation.REMOVE and kinds:
            raise InvalidMessage(f"component {u.component_id:#06x} is removed and changed")
        if AppDataUpdateOperation.REMOVE in kinds:
            raise InvalidMessage(f"component {u.component_id:#06x} is removed and changed")
        kinds.add(u.op)


def _check_gce_keeps_dictionary(
    gce: GroupContextExtensions, context_extensions: Sequence[Extension]
) -> None:
    ext = find_extension(context_extensions, ExtensionType.REQUIRED_CAPABILITIES)
    if ext is None:
        return
    try:
        required = RequiredCapabilities.from_bytes(ext.extension_data)
    except DecodeError as exc:
        raise InvalidMessage(f"required_capabilities does not parse: {exc}") from None
    if ProposalType.APP_DATA_UPDATE not in required.proposal_types:
        return
    if find_extension(gce.extensions, ExtensionType.APP_DATA_DICTIONARY) != find_extension(
        context_extensions, ExtensionType.APP_DATA_DICTIONARY
    ):
        raise InvalidMessage("a GroupContextExtensions may not change app_data_dictionary")


def apply_app_data_updates(
    extensions: Sequence[Extension], updates: Sequence[AppDataUpdate]
) -> tuple[Extension, ...]:
    """``extensions`` with the updates applied in order to their app_data_dictionary
    (created when absent). Removing a component that has no state is invalid."""
    dictionary = app_data_dictionary(extensions) or AppDataDictionary()
    state = dictionary.as_dict()
    for u in updates:
        if u.op == AppDataUpdateOperation.REMOVE:
            if u.component_id not in state:
                raise InvalidMessage(f"component {u.component_id:#06x} has no state to remove")
            del state[u.component_id]
        else:
            assert u.data is not None
            state[u.component_id] = u.data
    return replace_extension(extensions, app_data_dictionary_extension(AppDataDictionary.of(state)))


def replace_extension(extensions: Sequence[Extension], new: Extension) -> tuple[Extension, ...]:
    """``extensions`` with the one of ``new``'s type replaced in place, else appended."""
    out = [new if e.extension_type == new.extension_type else e for e in extensions]
    if new not in out:
        out.append(new)
    return tuple(out)


def is_last_resort(key_package: KeyPackage) -> bool:
    """Whether a KeyPackage is marked last-resort, in either draft's way."""
    if find_extension(key_package.extensions, ExtensionType.LAST_RESORT) is not None:
        return True
    dictionary = app_data_dictionary(key_package.extensions)
    return dictionary is not None and dictionary.get(ComponentID.LAST_RESORT_KEY_PACKAGE) == b""


def last_resort_extensions(marking: LastResortMarking) -> tuple[Extension, ...]:
    """The KeyPackage extensions that mark it last-resort (list 0x0006 in the
    capabilities for the draft-10 form, as OpenMLS insists)."""
    if marking is LastResortMarking.DRAFT_08:
        return (Extension(ExtensionType.LAST_RESORT, b""),)
    dictionary = AppDataDictionary.of({ComponentID.LAST_RESORT_KEY_PACKAGE: b""})
    return (app_data_dictionary_extension(dictionary),)


def split_safe_aad(authenticated_data: bytes, safe_aad: ComponentsList) -> tuple[SafeAAD, bytes]:
    """Section "Safe AAD": in a group with a ``safe_aad`` component, authenticated_data
    starts with a SafeAAD whose items all belong to components listed there."""
    r = Reader(authenticated_data)
    try:
        prefix = SafeAAD.decode(r)
    except DecodeError as exc:
        raise InvalidMessage(f"SafeAAD does not parse: {exc}") from None
    for item in prefix.aad_items:
        if item.component_id not in safe_aad:
            raise InvalidMessage(f"SafeAAD item of unlisted component {item.component_id:#06x}")
    return prefix, r.fixed(r.remaining)
