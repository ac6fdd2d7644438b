"""What to tell a person whose pasted key did not parse, in words, without bech32 internals.

Never echoes the text back: a secret key pasted in the wrong box must not reach the screen
or the logs.
"""

from __future__ import annotations

from collections.abc import Sequence

_CHARSET = set("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
_LENGTHS = {"npub": 63, "nsec": 63}
_OTHER = {
    "note": "a note id",
    "nevent": "a link to an event",
    "naddr": "a link to an article or list",
    "nrelay": "a relay link",
}


def explain(text: str, wanted: Sequence[str]) -> str:
    """Why ``text`` is not one of ``wanted`` ("npub", "nprofile", "nsec"), for a person."""
    text = text.strip().removeprefix("nostr:")
    low = text.lower()
    names = " or ".join(f"an {w}" for w in wanted)
    starts = " or ".join(f"{w}1" for w in wanted)
    if not text:
        return f"paste {names} (it starts with {starts})"
    prefix = low.split("1", 1)[0] if "1" in low else ""
    return _misplaced(prefix, names) or _malformed(prefix, text, wanted)


def _misplaced(prefix: str, names: str) -> str:
    """A key or link of another kind than the box wants ("" when it is not that)."""
    if prefix == "nsec" and "nsec" not in names:
        return "that is a secret key (nsec): keep it to yourself; paste the npub instead"
    if prefix in ("npub", "nprofile") and prefix not in names:
        return f"that is a public key ({prefix}); this needs your secret key (nsec1…)"
    if prefix in _OTHER:
        return f"that is {_OTHER[prefix]}, not {names}"
    return ""


def _malformed(prefix: str, text: str, wanted: Sequence[str]) -> str:
    low = text.lower()
    names = " or ".join(f"an {w}" for w in wanted)
    starts = " or ".join(f"{w}1" for w in wanted)
    if prefix in wanted:
        return f"that is not a valid {prefix} ({_what_is_wrong(prefix, low)})"
    if all(c in "0123456789abcdef" for c in low):
        return f"a hex key has 64 characters; this has {len(text)}: paste {names} instead"
    return f"that is not {names} (it should start with {starts})"


def _what_is_wrong(prefix: str, low: str) -> str:
    data = low[len(prefix) + 1 :]
    bad = sorted({c for c in data if c not in _CHARSET})
    if bad:
        return f"it contains {', '.join(repr(c) for c in bad)}, which never appear in one"
    expected = _LENGTHS.get(prefix)
    if expected is not None and len(low) < expected:
        return f"it looks cut off: {len(low)} of {expected} characters"
    if expected is not None and len(low) > expected:
        return f"it is too long: {len(low)} instead of {expected} characters"
    return "it looks cut off or mistyped"
