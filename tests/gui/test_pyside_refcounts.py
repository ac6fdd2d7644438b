"""The Qt binding must not release Python's singletons: PySide6 6.12.0 did, once per call
of a Python model's data() that answers None and once per Signal.emit(), until True or None
were freed and the interpreter aborted ("bool_dealloc", "none_dealloc"). Our models answer
None for every role they do not serve, and the bridge emits on every app event, so a long
session would crash; pyproject.toml excludes that release."""

from __future__ import annotations

import sys

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from pytestqt.qtbot import QtBot

CALLS = 200  # few enough that a leaking binding fails the test, not the process


class _Model(QAbstractListModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return "row" if role == Qt.ItemDataRole.DisplayRole else None


class _Emitter(QObject):
    changed = Signal(object)


def _lost(counted: object, call: object) -> int:
    before = sys.getrefcount(counted)
    for _ in range(CALLS):
        call()  # type: ignore[operator]
    return before - sys.getrefcount(counted)


def test_a_models_none_answer_keeps_its_reference(qtbot: QtBot) -> None:
    model = _Model()
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "row"
    assert _lost(None, lambda: index.data(Qt.ItemDataRole.ToolTipRole)) < CALLS // 10


def test_emitting_a_signal_keeps_the_references_of_true_and_none(qtbot: QtBot) -> None:
    emitter, seen = _Emitter(), list[object]()
    emitter.changed.connect(seen.append)
    assert _lost(True, lambda: emitter.changed.emit(None)) < CALLS // 10
    assert len(seen) == CALLS
