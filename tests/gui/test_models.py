"""Every list model under pytest-qt's QAbstractItemModelTester, plus their own contracts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from ui.models.chats import ChatFilterProxy, ChatListModel, SearchResultModel
from ui.models.messages import MessageListModel
from ui.models.people import (
    AccountListModel,
    ContactListModel,
    DeviceListModel,
    InviteListModel,
    MemberListModel,
    RelayListModel,
)
from ui.models.roles import ItemRole, MessageRole
from ui.views import (
    AccountView,
    ChatRow,
    ContactRow,
    DeviceRow,
    InviteRow,
    MemberRow,
    MessageRow,
    MessageStatus,
    RelayRow,
    RelayStatus,
    SearchHit,
)

pytestmark = pytest.mark.gui

DAY = 86_400
T0 = 1_700_000_000


def chat(n: int, **kw: object) -> ChatRow:
    base = ChatRow(id=f"c{n}", title=f"Chat {n}", preview=f"hello {n}", time=T0 + n)
    return replace(base, **kw)  # type: ignore[arg-type]


def msg(n: int, author: str = "a", *, at: int | None = None, own: bool = False) -> MessageRow:
    return MessageRow(
        f"m{n:06d}",
        "c1",
        author,
        author.upper(),
        own,
        f"text {n}",
        T0 + n * 60 if at is None else at,
    )


def check(qtmodeltester: ModelTester, model: object) -> None:
    """Attach Qt's own tester and pytest-qt's Python one; both keep checking later changes."""
    qtmodeltester.check(model)
    qtmodeltester.check(model, force_py=True)


# --- chat list ---------------------------------------------------------------------------


def test_chat_list_keeps_pinned_then_recent_order(qtmodeltester: ModelTester) -> None:
    model = ChatListModel()
    model.set_rows([chat(1), chat(2), chat(3, pinned=True)])
    check(qtmodeltester, model)
    assert [r.id for r in model.rows] == ["c3", "c2", "c1"]
    model.upsert(chat(1, time=T0 + 100))  # new message: moves below the pinned chat
    assert [r.id for r in model.rows] == ["c3", "c1", "c2"]
    model.upsert(chat(3, pinned=False, time=T0))  # unpinned and old: moves to the bottom
    assert [r.id for r in model.rows] == ["c1", "c2", "c3"]
    model.upsert(chat(4, time=T0 + 50))
    assert [r.id for r in model.rows] == ["c1", "c4", "c2", "c3"]
    assert model.position("c4") == 1
    assert model.remove("c2") and not model.remove("c2")
    assert [model.position(k) for k in ("c1", "c4", "c3")] == [0, 1, 2]
    check(qtmodeltester, model)


def test_chat_update_in_place_emits_one_targeted_data_change(qtbot: QtBot) -> None:
    model = ChatListModel()
    model.set_rows([chat(1), chat(2)])
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.upsert(chat(2, unread=3))
    top, bottom, roles = blocker.args
    assert top.row() == bottom.row() == 0
    assert int(ItemRole.UNREAD) in roles
    assert model.index(0).data(ItemRole.UNREAD) == 3


def test_chat_set_rows_diffs_instead_of_resetting(qtbot: QtBot) -> None:
    model = ChatListModel()
    model.set_rows([chat(1), chat(2), chat(3)])
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_rows([chat(1), chat(3, preview="changed"), chat(4, time=T0 + 9)])
    assert resets == []
    assert [r.id for r in model.rows] == ["c4", "c3", "c1"]
    assert model.get("c3") is not None and model.get("c3").preview == "changed"  # type: ignore[union-attr]


def test_unread_total_skips_muted_and_archived() -> None:
    model = ChatListModel()
    model.set_rows(
        [chat(1, unread=2), chat(2, unread=5, muted=True), chat(3, unread=7, archived=True)]
    )
    assert model.total_unread() == 2
    assert model.archived_count() == 1


def test_archive_filter_proxy(qtmodeltester: ModelTester) -> None:
    model = ChatListModel()
    model.set_rows([chat(1), chat(2, archived=True), chat(3)])
    proxy = ChatFilterProxy()
    proxy.setSourceModel(model)
    check(qtmodeltester, proxy)
    assert proxy.rowCount() == 2
    proxy.set_show_archived(True)
    assert [proxy.index(i, 0).data(ItemRole.KEY) for i in range(proxy.rowCount())] == ["c2"]
    model.upsert(chat(3, archived=True))  # archived in place: the proxy follows
    assert proxy.rowCount() == 2
    proxy.set_show_archived(False)
    assert proxy.rowCount() == 1
    check(qtmodeltester, proxy)


def test_search_results_keep_backend_order(qtmodeltester: ModelTester) -> None:
    model = SearchResultModel()
    hits = [SearchHit("c1", "Chat", "a"), SearchHit("c1", "Chat", "b", "m1", T0)]
    model.set_rows(hits)
    check(qtmodeltester, model)
    assert [model.index(i).data(ItemRole.SUBTITLE) for i in range(2)] == ["a", "b"]
    model.set_rows([])
    assert model.rowCount() == 0


# --- messages ---------------------------------------------------------------------------


def test_messages_prepend_append_update(qtmodeltester: ModelTester) -> None:
    model = MessageListModel()
    model.reset("c1", [msg(n) for n in range(50, 60)], is_group=True, has_older=True)
    check(qtmodeltester, model)
    assert model.prepend([msg(n) for n in range(40, 50)], has_older=True) == 10
    assert model.prepend([msg(49), msg(48)], has_older=True) == 0  # duplicates ignored
    assert model.add(msg(60, "b"))
    assert model.rowCount() == 21
    assert [model.position(f"m{n:06d}") for n in (40, 50, 60)] == [0, 10, 20]
    assert model.update(replace(msg(45), status=MessageStatus.FAILED))
    assert model.get("m000045").status is MessageStatus.FAILED  # type: ignore[union-attr]
    assert not model.update(msg(999))
    check(qtmodeltester, model)


def test_messages_insert_out_of_order_and_rebuild_positions(qtmodeltester: ModelTester) -> None:
    model = MessageListModel()
    model.reset("c1", [msg(n) for n in (1, 2, 4, 5)], is_group=False, has_older=False)
    model.prepend([], has_older=False)
    late = msg(3)
    assert model.add(late)
    assert [r.id for r in model.rows] == [f"m{n:06d}" for n in (1, 2, 3, 4, 5)]
    assert [model.position(r.id) for r in model.rows] == [0, 1, 2, 3, 4]
    # Older than everything loaded while more history exists: left for paging to bring.
    model.reset("c1", [msg(n) for n in (10, 11)], is_group=False, has_older=True)
    assert not model.add(msg(5))
    assert model.rowCount() == 2
    check(qtmodeltester, model)


def test_message_derived_flags_follow_neighbours(qtbot: QtBot) -> None:
    model = MessageListModel()
    rows = [
        msg(1, "a", at=T0),
        msg(2, "a", at=T0 + 60),
        msg(3, "b", at=T0 + 120),
        msg(4, "me", at=T0 + 180, own=True),
        msg(5, "b", at=T0 + DAY),
    ]
    model.reset("c1", rows, is_group=True, has_older=False)

    def flags(role: MessageRole) -> list[bool]:
        return [bool(model.index(i).data(role)) for i in range(model.rowCount())]

    assert flags(MessageRole.SHOW_DAY) == [True, False, False, False, True]
    assert flags(MessageRole.RUN_START) == [True, False, True, True, True]
    assert flags(MessageRole.SHOW_AUTHOR) == [True, False, True, False, True]
    # An older page by the same author on the same day: the old first row loses its name.
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.prepend([msg(0, "a", at=T0 - 60)], has_older=False)
    assert blocker.args[0].row() == 1
    assert flags(MessageRole.SHOW_AUTHOR)[:2] == [True, False]
    assert flags(MessageRole.SHOW_DAY)[:2] == [True, False]


def test_message_model_is_not_a_tree() -> None:
    model = MessageListModel()
    model.reset("c1", [msg(1)], is_group=False, has_older=False)
    assert model.rowCount(model.index(0)) == 0
    assert model.data(QModelIndex()) is None
    assert model.index(0).data() == "text 1"


# --- small lists -------------------------------------------------------------------------


def test_members_sorted_self_then_admins(qtmodeltester: ModelTester) -> None:
    model = MemberListModel()
    model.set_rows(
        [
            MemberRow("p3", "Carol", False),
            MemberRow("p2", "Bob", True),
            MemberRow("p1", "Me", True, is_self=True),
        ]
    )
    check(qtmodeltester, model)
    assert [model.index(i).data(ItemRole.TITLE) for i in range(3)] == ["Me (you)", "Bob", "Carol"]
    model.upsert(MemberRow("p3", "Carol", True, 2))  # promoted: moves up among admins
    assert [r.pubkey for r in model.rows] == ["p1", "p2", "p3"]
    model.upsert(MemberRow("p0", "Alice", False))
    model.remove("p2")
    assert [r.pubkey for r in model.rows] == ["p1", "p3", "p0"]
    assert model.index(1).data(ItemRole.BADGE) == "Admin"
    assert model.index(1).data(ItemRole.SUBTITLE) == "2 devices"
    check(qtmodeltester, model)


@pytest.mark.parametrize(
    ("model_type", "rows", "changed"),
    [
        (
            ContactListModel,
            [
                ContactRow("p1", "npub1" + "a" * 58, "Ann"),
                ContactRow("p2", "npub1" + "b" * 58, "Ben"),
            ],
            ContactRow("p2", "npub1" + "b" * 58, "Ben", blocked=True),
        ),
        (
            InviteListModel,
            [
                InviteRow("i1", "Hikers", "p1", "Ann", 3, T0),
                InviteRow("i2", "Book club", "p2", "Ben", 5, T0),
            ],
            InviteRow("i2", "Book club", "p2", "Ben", 6, T0),
        ),
        (
            DeviceListModel,
            [DeviceRow("d1", "Laptop", True, 1, 2), DeviceRow("d2", "Phone", False, 0, 2)],
            DeviceRow("d2", "Phone", False, 1, 3),
        ),
        (
            RelayListModel,
            [
                RelayRow("wss://a", RelayStatus.CONNECTED),
                RelayRow("wss://b", RelayStatus.CONNECTING),
            ],
            RelayRow("wss://b", RelayStatus.FAILED),
        ),
        (
            AccountListModel,
            [AccountView("p1", "npub1x", "Ann"), AccountView("p2", "npub1y", "Ben")],
            AccountView("p2", "npub1y", "Ben", unlocked=True),
        ),
    ],
)
def test_small_lists(
    qtmodeltester: ModelTester, qtbot: QtBot, model_type: type, rows: list[object], changed: object
) -> None:
    model = model_type()
    model.set_rows(rows)
    check(qtmodeltester, model)
    with qtbot.waitSignal(model.dataChanged):
        model.upsert(changed)
    assert changed in model.rows
    model.set_rows(rows[1:])
    assert model.rowCount() == 1
    assert all(
        model.index(0).data(role) is not None for role in (ItemRole.TITLE, ItemRole.SUBTITLE)
    )
    check(qtmodeltester, model)


def test_relays_count_connected() -> None:
    model = RelayListModel()
    model.set_rows(
        [RelayRow("wss://a", RelayStatus.CONNECTED), RelayRow("wss://b", RelayStatus.FAILED)]
    )
    assert model.connected_count() == 1
