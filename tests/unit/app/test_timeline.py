"""app.timeline: what one commit changed, in reading order, and who is only invited."""

from __future__ import annotations

from app.timeline import (
    ADDED,
    JOINED,
    LEFT,
    REMOVED,
    RENAMED,
    TIMER,
    Before,
    Change,
    changes_of,
    parse,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_a_commit_reads_as_its_changes() -> None:
    before = Before("Hikers", "", (A, B), None)
    after = Before("Ridge crew", "", (A, C), 3600)
    assert changes_of(before, after, A, ()) == [
        Change(RENAMED, A, value="Ridge crew"),
        Change(TIMER, A, value="3600"),
        Change(ADDED, A, C),
        Change(REMOVED, A, B),
    ]


def test_leaving_is_not_a_removal() -> None:
    group = Before("Hikers", "", (A, B, C))
    gone = Before("Hikers", "", (A, B))
    assert changes_of(group, gone, C, ()) == [Change(LEFT, C)]  # committed her own leave
    assert changes_of(group, gone, A, (), leaving=[C]) == []  # "Carol left" came first


def test_an_invitees_first_update_is_their_joining() -> None:
    same = Before("Hikers", "", (A, B))
    assert changes_of(same, same, B, [B], me=A) == [Change(JOINED, B)]
    assert changes_of(same, same, B, [], me=A) == []  # a later key rotation says nothing


def test_rows_round_trip_and_bad_json_is_ignored() -> None:
    change = Change(RENAMED, A, value="Ridge “crew”")
    assert parse(None, change.to_json(), A) == change
    assert parse(None, "not json", A) is None
    assert parse(None, "[1, 2]", A) is None
