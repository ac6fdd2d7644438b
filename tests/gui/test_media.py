"""Attachments in the chat view over the in-memory backend: the attach button's chooser,
drag and drop, pasted pictures, the uploads strip (progress, cancel, failure), the BlurHash
placeholder before the preview, and file cards."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage
from PySide6.QtWidgets import QFileDialog, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.fake_chats import FakeChat
from tests.gui.helpers import open_chat, png
from ui.delegates.message_layout import MessageLayout
from ui.errors import InvalidInput
from ui.main_window import MainWindow
from ui.views import PLACEHOLDER_SIZE, ChatUpdated, TransferProgress, UploadChanged, UploadRow
from ui.widgets.chat_media import ChatMedia

pytestmark = [pytest.mark.gui, pytest.mark.media]


def dm(backend: FakeBackend) -> FakeChat:
    chat = backend.make_chat("Bob Marsh", ["Bob Marsh"], is_dm=True)
    backend.emit(ChatUpdated(chat.row()))
    return chat


def media(window: MainWindow) -> ChatMedia:
    return window.chat.media


def sent_files(backend: FakeBackend) -> list[tuple[object, ...]]:
    return backend.calls_to("send_file")


def layout_of(window: MainWindow, message_id: str) -> tuple[QPoint, MessageLayout]:
    view = window.chat.list
    index = window.chat.model.index(window.chat.model.position(message_id))
    view.scrollTo(index)
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    layout = view.bubbles.layout_for(index, option)
    assert layout is not None
    return option.rect.topLeft(), layout


def test_attach_button_sends_the_chosen_files_with_the_typed_caption(
    qtbot: QtBot,
    window: MainWindow,
    alice: FakeBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    first, second = tmp_path / "a.png", tmp_path / "b.txt"
    first.write_bytes(png("#3366cc", 120))
    second.write_bytes(b"plain notes")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *_a, **_k: ([str(first), str(second)], "")
    )
    window.chat.composer.set_text("two files")
    media(window).attach_button.click()
    qtbot.waitUntil(lambda: len(sent_files(alice)) == 2)
    assert [(c[1], c[3]) for c in sent_files(alice)] == [("a.png", "two files"), ("b.txt", "")]
    assert window.chat.composer.text == ""
    qtbot.waitUntil(lambda: len([r for r in window.chat.model.rows if r.attachments]) == 2)


def test_drop_and_paste_become_attachments(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend, tmp_path: Path
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    dropped = tmp_path / "dropped.pdf"
    dropped.write_bytes(b"%PDF-1.4 dropped")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    assert media(window).accepts(mime)
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.chat.dropEvent(event)
    qtbot.waitUntil(lambda: len(sent_files(alice)) == 1)
    assert sent_files(alice)[0][1:3] == ("dropped.pdf", len(b"%PDF-1.4 dropped"))

    picture = QImage(40, 30, QImage.Format.Format_RGB32)
    picture.fill(QColor("#cc3344"))
    pasted = QMimeData()
    pasted.setImageData(picture)
    composer = window.chat.composer
    assert composer.canInsertFromMimeData(pasted)
    composer.insertFromMimeData(pasted)
    qtbot.waitUntil(lambda: len(sent_files(alice)) == 2)
    assert sent_files(alice)[1][1] == "pasted.png"
    assert composer.text == ""  # a picture is not pasted as text
    text = QMimeData()
    text.setText("just words")
    composer.insertFromMimeData(text)
    assert composer.text == "just words" and len(sent_files(alice)) == 2


def test_uploads_strip_shows_progress_cancel_and_failure(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    alice.hold_uploads = True
    open_chat(qtbot, window, chat.id)
    media(window).send_files([("big.bin", b"x" * 3000)])
    strip = media(window).uploads
    qtbot.waitUntil(lambda: strip.line("upload:1") is not None)
    assert strip.isVisible()
    text, bar = strip.line("upload:1")  # type: ignore[misc]
    assert "big.bin" in text.text() and "3.0 KB" in text.text()
    assert (bar.value(), bar.maximum()) == (1000, 3000)
    alice.emit(UploadChanged(UploadRow(1, chat.id, "big.bin", 3000, "pending", "server down")))
    qtbot.waitUntil(lambda: "retrying: server down" in text.text())
    alice.emit(UploadChanged(UploadRow(1, chat.id, "big.bin", 3000, "failed", "refused")))
    qtbot.waitUntil(lambda: text.text().startswith("Could not send big.bin"))
    alice.emit(UploadChanged(UploadRow(1, chat.id, "big.bin", 3000, "pending")))
    cancel = [b for b in strip.findChildren(type(media(window).attach_button)) if b.isVisible()]
    assert cancel
    cancel[0].click()
    qtbot.waitUntil(lambda: strip.line("upload:1") is None)
    assert alice.calls_to("cancel_upload") == [(1,)]
    assert not strip.isVisible()
    assert not [r for r in window.chat.model.rows if r.attachments]  # never sent


def test_placeholder_then_preview_and_file_cards(
    qtbot: QtBot,
    window: MainWindow,
    alice: FakeBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = dm(alice)
    alice.latency = 0.2  # the preview takes a moment: the placeholder shows meanwhile
    open_chat(qtbot, window, chat.id)
    placeholder = bytes([200, 40, 40]) * (PLACEHOLDER_SIZE[0] * PLACEHOLDER_SIZE[1])
    picture = png("#2255aa", 200)
    row = alice.receive_file(chat.id, "blue.png", picture, size=(200, 100), placeholder=placeholder)
    qtbot.waitUntil(lambda: window.chat.model.get(row.id) is not None)
    top_left, layout = layout_of(window, row.id)
    _, rect = layout.attachments[0]
    assert rect.width() == 2 * rect.height()  # the sender's aspect ratio
    centre = top_left + rect.center().toPoint()
    shot = window.chat.list.viewport().grab().toImage()
    assert QColor(shot.pixel(centre + QPoint(40, 0))).red() > 150  # the reddish placeholder
    thumbs = media(window).thumbs
    qtbot.waitUntil(lambda: thumbs.get(row.attachments[0].file_hash) is not None)
    qtbot.wait(20)
    shot = window.chat.list.viewport().grab().toImage()
    pixel = QColor(shot.pixel(centre + QPoint(40, 0)))
    assert pixel.blue() > 150 and pixel.red() < 80  # the picture itself

    card = alice.receive_file(chat.id, "notes.txt", b"the notes")
    qtbot.waitUntil(lambda: window.chat.model.get(card.id) is not None)
    _, card_layout = layout_of(window, card.id)
    assert card_layout.attachments[0][1].height() == 52  # a card, not a preview
    target = tmp_path / "saved.txt"
    monkeypatch.setattr(ChatMedia, "ask_save_path", staticmethod(lambda _p, _n: str(target)))
    media(window).open_attachment(card.id, 0)
    qtbot.waitUntil(target.exists)
    assert target.read_bytes() == b"the notes"


def test_a_download_shows_progress_and_can_be_cancelled(
    qtbot: QtBot,
    window: MainWindow,
    alice: FakeBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    card = alice.receive_file(chat.id, "video.mp4", b"\x00" * 500)
    qtbot.waitUntil(lambda: window.chat.model.get(card.id) is not None)
    alice.latency = 0.5  # the download takes a while
    target = tmp_path / "video.mp4"
    monkeypatch.setattr(ChatMedia, "ask_save_path", staticmethod(lambda _p, _n: str(target)))
    media(window).open_attachment(card.id, 0)
    file_hash = card.attachments[0].file_hash
    strip = media(window).uploads
    qtbot.waitUntil(lambda: strip.line(f"download:{file_hash}") is not None)
    text, bar = strip.line(f"download:{file_hash}")  # type: ignore[misc]
    assert text.text() == "Receiving video.mp4"
    alice.emit(TransferProgress(f"download:{file_hash}", 200, 500))
    qtbot.waitUntil(lambda: (bar.value(), bar.maximum()) == (200, 500))
    cancel = [b for b in strip.findChildren(type(media(window).attach_button)) if b.isVisible()]
    cancel[0].click()
    qtbot.waitUntil(lambda: alice.calls_to("cancel_download") == [(file_hash,)])
    qtbot.waitUntil(lambda: strip.line(f"download:{file_hash}") is None, timeout=3000)


def test_a_refused_file_gives_the_caption_back(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)

    async def refuse(*_args: object) -> UploadRow:
        raise InvalidInput("That file is larger than 100 MiB.")

    monkeypatch.setattr(alice, "send_file", refuse)
    errors: list[str] = []
    window.session.errorRaised.connect(errors.append)
    window.chat.composer.set_text("the big one")
    media(window).send_files([("huge.bin", b"x")])
    qtbot.waitUntil(lambda: errors == ["That file is larger than 100 MiB."])
    assert window.chat.composer.text == "the big one"


def test_keyboard_and_menu_reach_attachments(
    qtbot: QtBot,
    window: MainWindow,
    alice: FakeBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    picture = alice.receive_file(chat.id, "p.png", png("#118844", 60), size=(60, 30))
    qtbot.waitUntil(lambda: window.chat.model.get(picture.id) is not None)
    menu = window.chat.message_menu(window.chat.model.get(picture.id))  # type: ignore[arg-type]
    labels = [a.text() for a in menu.actions()]
    assert "Open p.png" in labels and "Save p.png…" in labels
    assert "Copy text" not in labels  # a picture without a caption has no text to copy
    target = tmp_path / "p.png"
    monkeypatch.setattr(ChatMedia, "ask_save_path", staticmethod(lambda _p, _n: str(target)))
    next(a for a in menu.actions() if a.text() == "Save p.png…").trigger()
    qtbot.waitUntil(target.exists)
    assert target.read_bytes() == png("#118844", 60)
    view = window.chat.list
    view.setCurrentIndex(window.chat.model.index(window.chat.model.position(picture.id)))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: media(window).viewer is not None)
    viewer = media(window).viewer
    assert viewer is not None and viewer.picture.pixmap().width() == 60
    viewer.close()
