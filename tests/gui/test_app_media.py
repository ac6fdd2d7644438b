"""Encrypted media in the real app: two windows over the real relay and the real Blossom
server. Bob attaches pictures and Alice sees them inline (placeholder first, then the
decrypted preview), opens one full size and saves it; Alice sends a file back, which Bob
sees as a card and saves; Alice sets the group picture and Bob's chat list shows it.
Screenshots: ``screenshots/app-chat-images.png``, ``app-image-viewer.png`` and
``app-group-picture.png``."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.helpers import open_chat, save
from tests.gui.real_app import NETWORK_MS, AppFactory, RealApp, app_config, onboard, run
from tests.helpers.blossom import BlossomProcess
from tests.helpers.relay import RelayProcess
from ui.dialogs.group_details import GroupDetailsDialog
from ui.views import MessageRow
from ui.widgets.chat_media import ChatMedia

pytestmark = [pytest.mark.gui, pytest.mark.media]


def landscape(width: int, height: int, sky: str, ground: str) -> bytes:
    """A small painted 'photo' (JPEG): a sky gradient, two mountains, a sun."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    gradient = QLinearGradient(0, 0, 0, height)
    gradient.setColorAt(0, QColor(sky))
    gradient.setColorAt(1, QColor("#f6d5a8"))
    painter.fillRect(image.rect(), gradient)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#fff1b8"))
    painter.drawEllipse(QPointF(width * 0.75, height * 0.3), height * 0.1, height * 0.1)
    for left, peak, colour in ((-0.1, 0.35, ground), (0.35, 0.5, "#3d5a4a")):
        painter.setBrush(QColor(colour))
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(width * left, height),
                    QPointF(width * (left + 0.4), height * peak),
                    QPointF(width * (left + 0.9), height),
                ]
            )
        )
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG", 90)
    return bytes(data.data())


def _config(tmp: Path, name: str, relay: RelayProcess, blossom: BlossomProcess) -> object:
    base = app_config(tmp / name, relay.url)
    return dataclasses.replace(base, blossom_servers=(blossom.url,), embedded_blossom=False)


def _rows(real: RealApp) -> list[MessageRow]:
    return list(real.window.chat.model.rows)


def _media(real: RealApp) -> ChatMedia:
    return real.window.chat.media


def click_attachment(qtbot: QtBot, real: RealApp, message_id: str) -> QRectF:
    """Click a message's first attachment where it is drawn; its rectangle."""
    view = real.window.chat.list
    index = real.window.chat.model.index(real.window.chat.model.position(message_id))
    view.scrollTo(index)
    qtbot.wait(50)
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    layout = view.bubbles.layout_for(index, option)
    assert layout is not None and layout.attachments
    _, rect = layout.attachments[0]
    where = option.rect.topLeft() + rect.center().toPoint()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    return rect


def test_pictures_and_files_in_the_real_window(
    qtbot: QtBot,
    open_real_app: AppFactory,
    relay: RelayProcess,
    blossom_server: BlossomProcess,
    tmp_path: Path,
) -> None:
    alice = open_real_app(_config(tmp_path, "alice", relay, blossom_server))  # type: ignore[arg-type]
    bob = open_real_app(_config(tmp_path, "bob", relay, blossom_server))  # type: ignore[arg-type]
    onboard(qtbot, alice, "Alice Moreau")
    onboard(qtbot, bob, "Bob Marsh")
    me = bob.window.session.account
    assert me is not None
    group = run(qtbot, alice.bridge.create_group("Weekend hikers", [me.pubkey], "Trails"))
    qtbot.waitUntil(lambda: bob.window.session.invites.rowCount() == 1, timeout=NETWORK_MS)
    run(qtbot, bob.bridge.accept_invite(bob.window.session.invites.rows[0].id))
    run(qtbot, bob.bridge.send(group.id, "Photos from the ridge yesterday"))

    # Bob attaches two pictures from his open chat (as the paste and drop paths do).
    open_chat(qtbot, bob.window, group.id)
    ridge = landscape(640, 400, "#7fb2e5", "#5b7f63")
    lake = landscape(360, 480, "#9ec9f0", "#6b8f5e")
    bob.window.chat.composer.set_text("The view from the top!")
    _media(bob).send_files([("ridge.jpg", ridge), ("lake.jpg", lake)])
    qtbot.waitUntil(lambda: len([r for r in _rows(bob) if r.attachments]) == 2, timeout=NETWORK_MS)
    assert bob.window.chat.composer.text == ""  # the caption went with the first picture

    open_chat(qtbot, alice.window, group.id)
    qtbot.waitUntil(
        lambda: len([r for r in _rows(alice) if r.attachments]) == 2, timeout=NETWORK_MS
    )
    pictures = [r for r in _rows(alice) if r.attachments]
    first = pictures[0].attachments[0]
    assert pictures[0].text == "The view from the top!" and first.filename == "ridge.jpg"
    assert (first.width, first.height) == (640, 400) and first.placeholder is not None
    thumbs = _media(alice).thumbs
    qtbot.waitUntil(
        lambda: all(thumbs.get(r.attachments[0].file_hash) is not None for r in pictures),
        timeout=NETWORK_MS,
    )
    alice.window.chat.list.scroll_to_end()
    qtbot.wait(100)
    save(alice.window, "app-chat-images")

    # A click on the preview opens the picture full size; Save as writes it.
    rect = click_attachment(qtbot, alice, pictures[0].id)
    assert abs(rect.width() / rect.height() - 640 / 400) < 0.02
    qtbot.waitUntil(lambda: _media(alice).viewer is not None, timeout=NETWORK_MS)
    viewer = _media(alice).viewer
    assert viewer is not None
    qtbot.waitUntil(viewer.isVisible)
    pixmap = viewer.picture.pixmap()
    assert (pixmap.width(), pixmap.height()) == (640, 400)
    save(viewer, "app-image-viewer")
    saved = viewer.save_to(tmp_path / "ridge-saved.jpg")
    assert saved is not None
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == first.file_hash
    viewer.close()

    # Alice answers with a file; Bob sees a card and saves it where he chooses.
    notes = b"Route: car park - ridge - lake - hut. 14 km, 900 m up.\n"
    _media(alice).send_files([("route.txt", notes)])
    qtbot.waitUntil(
        lambda: any(a.filename == "route.txt" for r in _rows(bob) for a in r.attachments),
        timeout=NETWORK_MS,
    )
    card = next(r for r in _rows(bob) if r.attachments and r.attachments[0].filename == "route.txt")
    target = tmp_path / "route-from-alice.txt"
    with pytest.MonkeyPatch.context() as patch:  # the file chooser answers with `target`
        patch.setattr(ChatMedia, "ask_save_path", staticmethod(lambda _p, _n: str(target)))
        open_chat(qtbot, bob.window, group.id)
        click_attachment(qtbot, bob, card.id)
        qtbot.waitUntil(target.exists, timeout=NETWORK_MS)
    assert target.read_bytes() == notes
    assert _media(bob).thumbs.size_of(card.attachments[0].file_hash) == len(notes)

    # Alice (admin) sets the group picture from the details dialog; Bob's chat list shows it.
    alice.window.chat.header.details.click()
    dialog = alice.window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.picture.isVisible())
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(landscape(300, 300, "#f0a060", "#805030"))
    dialog.set_picture(cover)

    def bob_avatar() -> bytes | None:
        row = bob.window.session.chats.get(group.id)
        return None if row is None else row.avatar

    qtbot.waitUntil(lambda: bob_avatar() is not None, timeout=NETWORK_MS)
    shown = QImage.fromData(bob_avatar() or b"")
    assert not shown.isNull() and shown.width() == shown.height()
    qtbot.waitUntil(lambda: not dialog.is_working, timeout=NETWORK_MS)
    dialog.close()
    qtbot.wait(50)
    save(bob.window, "app-group-picture")
