"""The app data structs of the MLS extensions draft (draft-ietf-mls-extensions, the
codepoints OpenMLS pins for draft-08 and draft-10; the layouts did not change between them).

::

    struct { ComponentID component_id; opaque data<V>; } ComponentData;
    struct { ComponentData component_data<V>; } AppDataDictionary;     # extension 0x0006
    struct { ComponentID component_ids<V>; } ComponentsList;
    enum { invalid(0), update(1), remove(2), (255) } AppDataUpdateOperation;
    struct {
        ComponentID component_id;
        AppDataUpdateOperation op;
        select (AppDataUpdate.op) { case update: opaque update<V>; case remove: struct{}; };
    } AppDataUpdate;                                                    # proposal 0x0008
    struct { ComponentID component_id; opaque aad_item_data<V>; } SafeAADItem;
    struct { SafeAADItem aad_items<V>; } SafeAAD;

Dictionary entries, component lists and SafeAAD items are strictly ascending by
component id (so each id at most once); decoders refuse anything else, as OpenMLS does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from mls.codec import Reader, Writer
from mls.errors import DecodeError, UsageError
from mls.messages._base import Struct, closed_enum, pull_u16s, push_u16s
from mls.messages.codepoints import ProposalType

__all__ = [
    "AppDataDictionary",
    "AppDataUpdate",
    "AppDataUpdateOperation",
    "ComponentData",
    "ComponentsList",
    "SafeAAD",
    "SafeAADItem",
]

_U16_MAX = 0xFFFF


def _check_ascending(ids: Iterable[int], what: str) -> None:
    previous = -1
    for cid in ids:
        if not 0 <= cid <= _U16_MAX:
            raise UsageError(f"component id {cid} is not a uint16")
        if cid <= previous:
            raise DecodeError(f"{what} is not strictly ascending by component id")
        previous = cid


@dataclass(frozen=True, slots=True)
class ComponentData(Struct):
    component_id: int
    data: bytes

    def encode(self, w: Writer) -> None:
        w.u16(self.component_id)
        w.opaque(self.data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u16(), r.opaque())


@dataclass(frozen=True, slots=True)
class AppDataDictionary(Struct):
    """The ``app_data_dictionary`` body (GroupContext, LeafNode or KeyPackage extension)."""

    entries: tuple[ComponentData, ...] = ()

    def __post_init__(self) -> None:
        _check_ascending((e.component_id for e in self.entries), "AppDataDictionary")

    @classmethod
    def of(cls, components: Mapping[int, bytes]) -> AppDataDictionary:
        """The dictionary holding ``components`` (any order in, ascending out)."""
        return cls(tuple(ComponentData(cid, components[cid]) for cid in sorted(components)))

    def get(self, component_id: int) -> bytes | None:
        for entry in self.entries:
            if entry.component_id == component_id:
                return entry.data
        return None

    def __contains__(self, component_id: object) -> bool:
        return any(e.component_id == component_id for e in self.entries)

    def as_dict(self) -> dict[int, bytes]:
        return {e.component_id: e.data for e in self.entries}

    def with_changes(self, changes: Mapping[int, bytes | None]) -> AppDataDictionary:
        """A copy with each ``changes`` id set to its bytes, or dropped where None."""
        merged = self.as_dict()
        for cid, data in changes.items():
            if data is None:
                merged.pop(cid, None)
            else:
                merged[cid] = data
        return AppDataDictionary.of(merged)

    def encode(self, w: Writer) -> None:
        body = Writer()
        for entry in self.entries:
            entry.encode(body)
        w.opaque(body.getvalue())

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(ComponentData.decode)))


@dataclass(frozen=True, slots=True)
class ComponentsList(Struct):
    """The state of the ``app_components`` (0x0001) and ``safe_aad`` (0x0002) components."""

    component_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _check_ascending(self.component_ids, "ComponentsList")

    @classmethod
    def of(cls, ids: Iterable[int]) -> ComponentsList:
        return cls(tuple(sorted(set(ids))))

    def __contains__(self, component_id: object) -> bool:
        return component_id in self.component_ids

    def encode(self, w: Writer) -> None:
        push_u16s(w, self.component_ids)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(pull_u16s(r))


class AppDataUpdateOperation(IntEnum):
    UPDATE = 1
    REMOVE = 2


@dataclass(frozen=True, slots=True)
class AppDataUpdate(Struct):
    """The ``app_data_update`` proposal body: new data for one component, or its removal.

    Build with :meth:`update` or :meth:`remove`; ``data`` is set exactly for an update.
    """

    proposal_type: ClassVar[int] = ProposalType.APP_DATA_UPDATE
    component_id: int
    op: AppDataUpdateOperation
    data: bytes | None = None

    def __post_init__(self) -> None:
        if (self.data is None) != (self.op == AppDataUpdateOperation.REMOVE):
            raise UsageError("an AppDataUpdate carries data exactly when it is an update")
        if not 0 <= self.component_id <= _U16_MAX:
            raise UsageError(f"component id {self.component_id} is not a uint16")

    @classmethod
    def update(cls, component_id: int, data: bytes) -> AppDataUpdate:
        return cls(component_id, AppDataUpdateOperation.UPDATE, data)

    @classmethod
    def remove(cls, component_id: int) -> AppDataUpdate:
        return cls(component_id, AppDataUpdateOperation.REMOVE)

    def encode(self, w: Writer) -> None:
        w.u16(self.component_id)
        w.u8(self.op)
        if self.data is not None:
            w.opaque(self.data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        component_id = r.u16()
        op = closed_enum(AppDataUpdateOperation, r.u8())
        data = r.opaque() if op == AppDataUpdateOperation.UPDATE else None
        return cls(component_id, op, data)


@dataclass(frozen=True, slots=True)
class SafeAADItem(Struct):
    component_id: int
    aad_item_data: bytes

    def encode(self, w: Writer) -> None:
        w.u16(self.component_id)
        w.opaque(self.aad_item_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u16(), r.opaque())


@dataclass(frozen=True, slots=True)
class SafeAAD(Struct):
    """The prefix of ``authenticated_data`` in a group whose GroupContext has a
    ``safe_aad`` component; the application's own AAD bytes follow it."""

    aad_items: tuple[SafeAADItem, ...] = ()

    def __post_init__(self) -> None:
        _check_ascending((i.component_id for i in self.aad_items), "SafeAAD")

    def encode(self, w: Writer) -> None:
        body = Writer()
        for item in self.aad_items:
            item.encode(body)
        w.opaque(body.getvalue())

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(SafeAADItem.decode)))
