"""The one place that knows where the shared vector files live.

The files sit in ``../shared/`` beside the project root (read-only in CI). A missing file
is an error, never a silent skip: a green run must mean every vector ran.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"vector file missing: {path} (../shared must sit beside the repo)")
    return path


@cache
def _load(relpath: str) -> Any:
    return json.loads(shared_path(*relpath.split("/")).read_text())


def mls_vectors(name: str) -> list[dict[str, Any]]:
    """The cases of ``mls-test-vectors/<name>.json``."""
    cases: list[dict[str, Any]] = _load(f"mls-test-vectors/{name}.json")
    return cases


def case_ids(name: str, cases: list[dict[str, Any]]) -> list[str]:
    """Readable pytest ids: file, suite (when present) and position."""
    ids = []
    for i, case in enumerate(cases):
        suite = case.get("cipher_suite")
        ids.append(f"{name}-s{suite}-{i}" if suite is not None else f"{name}-{i}")
    return ids


def load_json(relpath: str) -> Any:
    """Any JSON file under ``../shared`` by its path relative to that folder."""
    return _load(relpath)
