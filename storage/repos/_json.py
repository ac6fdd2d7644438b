"""Compact JSON for the JSON columns (tags, relay lists, admin lists)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from storage.rows import Tags


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dump_strings(values: Iterable[str]) -> str:
    return dumps(list(values))


def load_strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def dump_tags(tags: Sequence[Sequence[str]]) -> str:
    return dumps([list(tag) for tag in tags])


def load_tags(text: str) -> Tags:
    return tuple(tuple(tag) for tag in json.loads(text))
