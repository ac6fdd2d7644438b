"""Human-facing text: times, day labels, initials, short keys. Pure; ``now`` is a parameter."""

from __future__ import annotations

from datetime import date, datetime, timedelta

_PREVIEW_CHARS = 120


def chat_time(ts: int | None, now: float) -> str:
    """Chat-list time: "14:05" today, "Yesterday", a weekday within a week, else a date."""
    if ts is None:
        return ""
    when = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(now).date()
    days = (today - when.date()).days
    if days <= 0:
        return when.strftime("%H:%M")
    if days == 1:
        return "Yesterday"
    if days < 7:
        return when.strftime("%a")
    if when.year == today.year:
        return f"{when.day} {when.strftime('%b')}"
    return f"{when.day} {when.strftime('%b %Y')}"


def message_time(ts: int) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def day_label(day: date, now: float) -> str:
    """Day-separator text: "Today", "Yesterday", "Monday, 3 March" or "3 March 2024"."""
    today = datetime.fromtimestamp(now).date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return f"{day.strftime('%A')}, {day.day} {day.strftime('%B')}"
    return f"{day.day} {day.strftime('%B %Y')}"


def initials(name: str) -> str:
    """One or two letters for an avatar: "Alice Smith" -> "AS", "bob" -> "B", "" -> "?"."""
    words = [w for w in name.split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[-1][0]).upper()


def short_key(npub: str) -> str:
    """A readable abbreviation of an npub or hex key: "npub1abcd…wxyz"."""
    if len(npub) <= 20:
        return npub
    return f"{npub[:10]}…{npub[-6:]}"


def one_line(text: str, limit: int = _PREVIEW_CHARS) -> str:
    """Collapse whitespace for a single-line preview, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def public_key_problem(typed: str) -> str:
    """What is wrong with a pasted contact key before asking the backend, or "": nothing
    typed, or a secret key pasted where a public one belongs (it must not go further)."""
    text = typed.strip()
    if not text:
        return "Paste their npub or nprofile first."
    if text.lower().startswith("nsec1"):
        return "That is a secret key (nsec): never share it. Paste their npub instead."
    return ""


def file_size(size: int) -> str:
    """``532 B``, ``14 KB``, ``2.5 MB`` (decimal units, as file managers show them)."""
    if size < 1000:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size_f = size / 1000
        if size_f < 1000 or unit == "GB":
            return f"{size_f:.1f} {unit}" if size_f < 10 else f"{size_f:.0f} {unit}"
        size = int(size_f)
    return f"{size} GB"


def file_kind(mime_type: str, filename: str) -> str:
    """A short type label for a file card: ``PDF``, ``MP4``, ``TXT`` or ``File``."""
    ext = filename.rsplit(".", 1)[1] if "." in filename else ""
    if 1 <= len(ext) <= 5 and ext.isalnum():
        return ext.upper()
    sub = mime_type.split("/", 1)[-1]
    return sub.upper() if sub and sub != "octet-stream" and len(sub) <= 6 else "File"


def duration(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


_HEX = frozenset("0123456789abcdefABCDEF")


def looks_like_key(text: str) -> bool:
    """Pasted text that names a person rather than filtering by name: an npub, an
    nprofile, a 64-character hex key or a NIP-05 name@domain."""
    lowered = text.strip().lower()
    if lowered.startswith(("npub1", "nprofile1", "nostr:npub1", "nostr:nprofile1")):
        return True
    if len(lowered) == 64 and set(lowered) <= _HEX:
        return True
    name, at, domain = lowered.partition("@")
    return bool(at and name and "." in domain and " " not in lowered)


def timer_text(secs: int) -> str:
    """A disappearing timer in words: "1 hour", "8 hours", "1 week", "90 seconds" (as
    `app.words.timer_text`, which widgets may not import: they see view rows only)."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size and secs % size == 0:
            n = secs // size
            return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
    return f"{secs} seconds"
