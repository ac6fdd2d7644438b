"""Human-facing text: times relative to now, day labels, initials, short keys; and the icons."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from ui import format as fmt
from ui.theme import icon, icon_names

pytestmark = pytest.mark.gui

NOW = datetime(2024, 5, 15, 15, 0).timestamp()  # a Wednesday afternoon, local time


def at(*parts: int) -> int:
    return int(datetime(*parts).timestamp())  # type: ignore[misc]


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (at(2024, 5, 15, 9, 5), "09:05"),
        (at(2024, 5, 14, 23, 59), "Yesterday"),
        (at(2024, 5, 11, 12, 0), "Sat"),
        (at(2024, 3, 2, 12, 0), "2 Mar"),
        (at(2023, 12, 31, 12, 0), "31 Dec 2023"),
    ],
)
def test_chat_time(when: int, text: str) -> None:
    assert fmt.chat_time(when, NOW) == text


def test_chat_time_of_an_empty_chat() -> None:
    assert fmt.chat_time(None, NOW) == ""


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2024, 5, 15), "Today"),
        (date(2024, 5, 14), "Yesterday"),
        (date(2024, 5, 6), "Monday, 6 May"),
        (date(2023, 5, 6), "6 May 2023"),
    ],
)
def test_day_label(day: date, text: str) -> None:
    assert fmt.day_label(day, NOW) == text


@pytest.mark.parametrize(
    ("name", "letters"),
    [("Alice Moreau", "AM"), ("bob", "B"), ("Jean-Luc de la Tour", "JT"), ("", "?"), ("  ", "?")],
)
def test_initials(name: str, letters: str) -> None:
    assert fmt.initials(name) == letters


def test_short_key_and_one_line() -> None:
    npub = "npub1" + "q" * 58
    assert fmt.short_key(npub) == "npub1qqqqq…qqqqqq"
    assert fmt.short_key("short") == "short"
    assert fmt.one_line("a\n  b\tc") == "a b c"
    assert fmt.one_line("x" * 200, 10) == "x" * 9 + "…"
    assert fmt.plural(1, "member") == "1 member" and fmt.plural(3, "member") == "3 members"


@pytest.mark.parametrize("name", icon_names())
def test_every_icon_renders_sharp_at_any_scale(name: str, qapp: QApplication) -> None:
    for scale in (1.0, 2.0):
        pixmap = icon(name, "#123456").pixmap(QSize(24, 24), scale)
        image = pixmap.toImage()
        assert image.width() == int(24 * scale)
        painted = sum(
            1
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha()
        )
        assert painted > 10, f"{name} drew nothing"


def test_file_sizes_kinds_and_durations() -> None:
    assert [fmt.file_size(n) for n in (532, 14_200, 2_500_000, 120_000_000)] == [
        "532 B",
        "14 KB",
        "2.5 MB",
        "120 MB",
    ]
    assert fmt.file_kind("application/pdf", "route.pdf") == "PDF"
    assert fmt.file_kind("audio/ogg", "voice message") == "OGG"
    assert fmt.file_kind("application/octet-stream", "blob") == "File"
    assert [fmt.duration(s) for s in (7.2, 750, 3723)] == ["0:07", "12:30", "1:02:03"]
