"""NIP-01 subscription filters: JSON form and local matching.

A ``Filter`` is immutable; collections are normalised to frozensets so matching is a set
lookup. JSON output is sorted so equal filters serialise identically.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nostr.errors import DecodeError
from nostr.event import MAX_KIND, MAX_TIMESTAMP, Event

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TAG_KEY = re.compile(r"#[A-Za-z]")


def _frozen(values: Collection[Any], what: str) -> frozenset[Any]:
    if isinstance(values, str):
        raise DecodeError(f"filter {what} must be a collection, not a string")
    try:
        return frozenset(values)
    except TypeError:  # unhashable JSON values such as nested arrays
        raise DecodeError(f"filter {what} must hold plain values") from None


def _hex_set(values: Collection[str], what: str) -> frozenset[str]:
    out = _frozen(values, what)
    for v in out:
        if type(v) is not str or not _HEX64.fullmatch(v):
            raise DecodeError(f"filter {what} must be 64 lowercase hex characters")
    return out


def _kind_set(values: Collection[int]) -> frozenset[int]:
    out = _frozen(values, "kinds")
    if not all(isinstance(k, int) and type(k) is not bool and 0 <= k <= MAX_KIND for k in out):
        raise DecodeError("filter kinds must be integers in [0, 65535]")
    return frozenset(int(k) for k in out)  # plain ints, also from ``Kind`` members


def _check_timestamp(value: int | None, what: str) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= MAX_TIMESTAMP):
        raise DecodeError(f"filter {what} must be an unsigned integer")


@dataclass(frozen=True, slots=True)
class Filter:
    """``{"ids", "authors", "kinds", "#<letter>", "since", "until", "limit", "search"}``.

    ``None`` means "no constraint"; an empty collection matches nothing. ``tags`` maps a
    single letter to the accepted values of that tag (``{"p": {hex}}`` is ``"#p"``).
    """

    ids: Collection[str] | None = None
    authors: Collection[str] | None = None
    kinds: Collection[int] | None = None
    tags: Mapping[str, Collection[str]] = field(default_factory=dict)
    since: int | None = None
    until: int | None = None
    limit: int | None = None
    search: str | None = None

    def __post_init__(self) -> None:
        if self.ids is not None:
            object.__setattr__(self, "ids", _hex_set(self.ids, "ids"))
        if self.authors is not None:
            object.__setattr__(self, "authors", _hex_set(self.authors, "authors"))
        if self.kinds is not None:
            object.__setattr__(self, "kinds", _kind_set(self.kinds))
        tags: dict[str, frozenset[str]] = {}
        for letter, values in self.tags.items():
            if type(letter) is not str or not _TAG_KEY.fullmatch("#" + letter):
                raise DecodeError(f"bad tag filter {letter!r}")
            tags[letter] = _frozen(values, "#" + letter)
            if not all(type(v) is str for v in tags[letter]):
                raise DecodeError(f"tag filter #{letter} values must be strings")
        object.__setattr__(self, "tags", tags)
        _check_timestamp(self.since, "since")
        _check_timestamp(self.until, "until")
        if self.limit is not None and (type(self.limit) is not int or self.limit < 0):
            raise DecodeError("filter limit must be a non-negative integer")
        if self.search is not None and type(self.search) is not str:
            raise DecodeError("filter search must be a string")

    def __hash__(self) -> int:
        tags = tuple(sorted((k, frozenset(v)) for k, v in self.tags.items()))
        return hash((self.ids, self.authors, self.kinds, tags, self.since, self.until, self.limit))

    def matches(self, event: Event) -> bool:
        """Local NIP-01 matching (``limit`` and ``search`` are relay-side concerns)."""
        if self.ids is not None and event.id not in self.ids:
            return False
        if self.authors is not None and event.pubkey not in self.authors:
            return False
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        if self.since is not None and event.created_at < self.since:
            return False
        if self.until is not None and event.created_at > self.until:
            return False
        return all(self._tag_matches(event, k, v) for k, v in self.tags.items())

    @staticmethod
    def _tag_matches(event: Event, letter: str, accepted: Collection[str]) -> bool:
        return any(len(t) > 1 and t[0] == letter and t[1] in accepted for t in event.tags)

    def with_since(self, since: int | None) -> Filter:
        return replace(self, since=since)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ids is not None:
            out["ids"] = sorted(self.ids)
        if self.authors is not None:
            out["authors"] = sorted(self.authors)
        if self.kinds is not None:
            out["kinds"] = sorted(self.kinds)
        for letter in sorted(self.tags):
            out["#" + letter] = sorted(self.tags[letter])
        for key in ("since", "until", "limit", "search"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: object) -> Filter:
        """Parse the JSON object form; unknown keys are ignored as NIP-01 allows."""
        if type(data) is not dict:
            raise DecodeError("a filter must be a JSON object")
        lists: dict[str, list[Any] | None] = {}
        for key in ("ids", "authors", "kinds"):
            value = data.get(key)
            if value is not None and type(value) is not list:
                raise DecodeError(f"filter {key} must be an array")
            lists[key] = value
        tags: dict[str, list[Any]] = {}
        for key, value in data.items():
            if isinstance(key, str) and _TAG_KEY.fullmatch(key):
                if type(value) is not list:
                    raise DecodeError(f"filter {key} must be an array")
                tags[key[1:]] = value
        return cls(
            ids=lists["ids"],
            authors=lists["authors"],
            kinds=lists["kinds"],
            tags=tags,
            since=data.get("since"),
            until=data.get("until"),
            limit=data.get("limit"),
            search=data.get("search"),
        )
