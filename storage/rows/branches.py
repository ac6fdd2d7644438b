"""Rows of a Profile B group's retained branch tree (`storage.repos.branches`)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.rows.groups import MlsState

ROOT_KEY = "root"
"""The key of a node no stored commit made (the state a member joined or founded at)."""


@dataclass(frozen=True, slots=True)
class BranchNodeRow:
    """One retained state: ``key`` is the hex digest of the commit that made it (`ROOT_KEY`
    for a join), ``parent_key`` None for the retained root."""

    key: str
    parent_key: str | None
    epoch: int
    state: MlsState
    committer: str | None = None
    priority: int | None = None
    witnesses: tuple[str, ...] = ()
    canonical: bool = False


@dataclass(frozen=True, slots=True)
class DeferredEvent:
    event_id: str
    event_json: str
    created_at: int
