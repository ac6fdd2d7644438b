"""Small keyed lists: group members, contacts, invites, devices, relays and accounts.

All of them are painted by ``delegates.item.ItemDelegate`` from the shared ``ItemRole`` roles
(title, subtitle, avatar, badge).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from ui.format import plural, short_key
from ui.models.keyed import KeyedListModel
from ui.models.roles import ItemRole
from ui.views import (
    AccountView,
    ContactRow,
    DeviceRow,
    InviteRow,
    MemberRow,
    RelayRow,
    RelayStatus,
)


def _member_order(row: MemberRow) -> tuple[int, int, str, str]:
    return (0 if row.is_self else 1, 0 if row.admin else 1, row.name.lower(), row.pubkey)


class MemberListModel(KeyedListModel[MemberRow]):
    """You first, then admins, then everyone else by name."""

    is_sorted = True
    getters: ClassVar[Mapping[int, Callable[[MemberRow], object]]] = {
        ItemRole.TITLE: lambda r: f"{r.name} (you)" if r.is_self else r.name,
        ItemRole.SUBTITLE: lambda r: (
            "Invited · has not joined yet" if r.invited else plural(r.devices, "device")
        ),
        ItemRole.AVATAR: lambda r: r.avatar,
        ItemRole.AVATAR_SEED: lambda r: r.pubkey,
        ItemRole.BADGE: lambda r: "Admin" if r.admin else "Invited" if r.invited else "",
    }

    def key(self, row: MemberRow) -> str:
        return row.pubkey

    def sort_key(self, row: MemberRow) -> tuple[int, int, str, str]:
        return _member_order(row)


def _subtitle(row: ContactRow) -> str:
    """A verified NIP-05 address (with a check mark) says more than a key."""
    return f"✓ {row.nip05}" if row.nip05_verified and row.nip05 else short_key(row.npub)


def _contact_order(row: ContactRow) -> tuple[str, str]:
    return (row.name.lower(), row.pubkey)


class ContactListModel(KeyedListModel[ContactRow]):
    is_sorted = True
    getters: ClassVar[Mapping[int, Callable[[ContactRow], object]]] = {
        ItemRole.TITLE: lambda r: r.name or short_key(r.npub),
        ItemRole.SUBTITLE: _subtitle,
        ItemRole.AVATAR: lambda r: r.avatar,
        ItemRole.AVATAR_SEED: lambda r: r.pubkey,
        ItemRole.BADGE: lambda r: "Blocked" if r.blocked else "",
    }

    def key(self, row: ContactRow) -> str:
        return row.pubkey

    def sort_key(self, row: ContactRow) -> tuple[str, str]:
        return _contact_order(row)


def _invite_subtitle(row: InviteRow) -> str:
    if row.is_dm:
        return "Wants to chat with you"
    return f"{row.inviter_name} invited you · {plural(row.member_count, 'member')}"


class InviteListModel(KeyedListModel[InviteRow]):
    getters: ClassVar[Mapping[int, Callable[[InviteRow], object]]] = {
        ItemRole.TITLE: lambda r: r.title,
        ItemRole.SUBTITLE: _invite_subtitle,
        # A 1:1 chat takes the person's colour, as its chat row will.
        ItemRole.AVATAR_SEED: lambda r: r.inviter if r.is_dm else r.id,
        ItemRole.TIME: lambda r: r.received_at,
    }

    def key(self, row: InviteRow) -> str:
        return row.id


class DeviceListModel(KeyedListModel[DeviceRow]):
    getters: ClassVar[Mapping[int, Callable[[DeviceRow], object]]] = {
        ItemRole.TITLE: lambda r: r.label,
        ItemRole.SUBTITLE: lambda r: (
            f"{plural(r.key_packages, 'key package')} · in {plural(r.groups, 'group')}"
        ),
        ItemRole.AVATAR_SEED: lambda r: r.id,
        ItemRole.BADGE: lambda r: "This device" if r.current else "",
        ItemRole.TIME: lambda r: r.last_active,
    }

    def key(self, row: DeviceRow) -> str:
        return row.id


class RelayListModel(KeyedListModel[RelayRow]):
    getters: ClassVar[Mapping[int, Callable[[RelayRow], object]]] = {
        ItemRole.TITLE: lambda r: r.url,
        ItemRole.SUBTITLE: lambda r: r.status.value.capitalize(),
        ItemRole.STATUS: lambda r: r.status,
    }

    def key(self, row: RelayRow) -> str:
        return row.url

    def connected_count(self) -> int:
        return sum(1 for r in self._rows if r.status is RelayStatus.CONNECTED)


class AccountListModel(KeyedListModel[AccountView]):
    getters: ClassVar[Mapping[int, Callable[[AccountView], object]]] = {
        ItemRole.TITLE: lambda r: r.name or short_key(r.npub),
        ItemRole.SUBTITLE: lambda r: short_key(r.npub),
        ItemRole.AVATAR: lambda r: r.avatar,
        ItemRole.AVATAR_SEED: lambda r: r.pubkey,
        ItemRole.BADGE: lambda r: "Unlocked" if r.unlocked else "",
    }

    def key(self, row: AccountView) -> str:
        return row.pubkey
