"""Every emoji Burrow offers in its picker, with names to search by.

The set is what the bundled emoji font draws (so each one shows, also where the system has
no emoji font), named by Python's own Unicode database. Groups follow Unicode's blocks under
friendlier names. Skin-tone modifiers, flags and multi-character sequences (families, keycaps)
are not offered: the picker inserts single characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from PySide6.QtGui import QRawFont

from ui.theme import ASSETS, EMOJI_FONT

VS16 = "\ufe0f"  # "draw as emoji": needed after symbols that default to text


@dataclass(frozen=True, slots=True)
class Emoji:
    text: str
    name: str  # lowercase Unicode name, searched by word
    group: str


GROUPS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("Smileys & people", ((0x1F600, 0x1F64F), (0x1F900, 0x1F9FF))),
    ("Nature & objects", ((0x1F300, 0x1F5FF),)),
    ("Travel & places", ((0x1F680, 0x1F6FF),)),
    ("More objects", ((0x1FA70, 0x1FAFF),)),
    ("Symbols", ((0x2190, 0x21FF), (0x2300, 0x23FF), (0x2600, 0x27BF), (0x2B00, 0x2BFF))),
)
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def as_emoji(codepoint: int) -> str:
    """The character as an emoji: symbols below the emoji planes default to text and get
    VS16 (so "❤" becomes "❤️", the heart other apps send)."""
    return chr(codepoint) + (VS16 if codepoint < 0x1F000 else "")


@cache
def all_emoji() -> tuple[Emoji, ...]:
    font = QRawFont(str(ASSETS / EMOJI_FONT), 16)
    out = []
    for group, ranges in GROUPS:
        for low, high in ranges:
            for cp in range(low, high + 1):
                name = unicodedata.name(chr(cp), "")
                if name and cp not in _SKIN_TONES and font.supportsCharacter(cp):
                    out.append(Emoji(as_emoji(cp), name.lower(), group))
    return tuple(out)


def search(query: str, emoji: tuple[Emoji, ...] | None = None) -> list[Emoji]:
    """Emoji whose name has every typed word at the start of one of its words
    ("thu up" finds 👍, "heart" finds every heart); exact names first."""
    words = query.lower().split()
    found = all_emoji() if emoji is None else emoji
    if not words:
        return list(found)

    def matches(item: Emoji) -> bool:
        names = item.name.split()
        return all(any(n.startswith(w) for n in names) for w in words)

    typed = " ".join(words)

    def rank(item: Emoji) -> int:  # "tent" puts ⛺ before 🎪 (circus tent)
        return 0 if item.name == typed else 1 if item.name.startswith(typed) else 2

    return sorted((e for e in found if matches(e)), key=rank)
