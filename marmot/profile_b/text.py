"""Rust's ``str::trim``, for the values MDK trims and we must read identically (push relay
hints, v1 media file names and locators). Python's ``str.strip()`` also drops U+001C..U+001F,
which are not Unicode White_Space, so a name like "\\x1cphoto" would read apart."""

from __future__ import annotations

__all__ = ["WHITE_SPACE", "rust_trim"]

WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def rust_trim(text: str) -> str:
    return text.strip(WHITE_SPACE)
