"""Printing command results: one JSON object (``--json``) or readable text."""

from __future__ import annotations

import json
from typing import Any


def render(result: dict[str, Any], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n"
    lines: list[str] = []
    _text(result, lines, 0)
    return "\n".join(lines) + "\n"


def _text(value: Any, lines: list[str], depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                _text(item, lines, depth + 1)
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                lines.append(f"{pad}-")
                _text(item, lines, depth + 1)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    return str(value)
