"""The CLI's parser and output: every command of the issue parses; one JSON object."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast

import pytest

from app import Services
from cli.commands import COMMANDS, Cli
from cli.main import _catch_up, main
from cli.output import render
from cli.parser import build_parser

ISSUE_COMMANDS = [
    ["account", "create", "--name", "N"],
    ["account", "import", "nsec1x"],
    ["account", "show"],
    ["account", "export-nsec"],
    ["account", "export-ncryptsec"],
    ["account", "import", "ncryptsec1x"],
    ["account", "import", "bunker://x?relay=ws://r"],
    ["account", "connect", "--wait", "5"],
    ["relays", "set", "ws://a", "ws://b"],
    ["relays", "list"],
    ["keypackage", "publish"],
    ["keypackage", "list"],
    ["contacts", "add", "npub1x", "--name", "N"],
    ["contacts", "list"],
    ["devices", "list"],
    ["group", "create", "N", "--member", "npub1a", "--member", "npub1b", "--description", "D"],
    ["group", "list"],
    ["group", "show", "ab12"],
    ["group", "add", "ab12", "npub1a", "npub1b"],
    ["group", "remove", "ab12", "npub1a"],
    ["group", "promote", "ab12", "npub1a"],
    ["group", "demote", "ab12", "npub1a"],
    ["group", "rename", "ab12", "New"],
    ["group", "disappearing", "ab12", "3600"],
    ["group", "leave", "ab12"],
    ["invites", "list"],
    ["invites", "accept", "ID"],
    ["invites", "decline", "ID"],
    ["send", "ab12", "hello", "--reply-to", "ID"],
    ["send", "ab12", "--file", "cat.jpg"],
    ["send", "ab12", "a caption", "--file", "cat.jpg"],
    ["media", "get", "ab12", "ID", "--index", "1", "--out", "/tmp/x"],
    ["media", "servers", "--set", "https://a", "https://b"],
    ["media", "servers"],
    ["media", "uploads"],
    ["account", "profile", "--picture-file", "p.jpg"],
    ["group", "picture", "ab12", "--set", "p.jpg"],
    ["group", "picture", "ab12", "--out", "p.jpg"],
    ["group", "picture", "ab12", "--clear"],
    ["media", "cancel", "3"],
    ["media", "retry", "3"],
    ["react", "ab12", "ID", "🦫"],
    ["delete", "ab12", "ID"],
    ["messages", "ab12", "--limit", "5"],
    ["messages", "edit", "ab12", "ID", "new text"],
    ["sync", "--timeout", "3"],
    ["listen"],
]


@pytest.mark.parametrize("argv", ISSUE_COMMANDS, ids=[" ".join(a[:2]) for a in ISSUE_COMMANDS])
def test_every_command_of_the_issue_parses_and_has_a_handler(argv: list[str]) -> None:
    args = build_parser().parse_args(["--data-dir", "/tmp/x", "--json", *argv])
    assert args.json and args.data_dir == "/tmp/x"
    if args.command != "listen":
        assert (args.command, getattr(args, "action", None)) in COMMANDS


def test_json_output_is_exactly_one_object() -> None:
    text = render({"group": {"id": "ab", "members": [{"name": "a"}]}}, as_json=True)
    assert text.count("\n") == 1
    assert json.loads(text) == {"group": {"id": "ab", "members": [{"name": "a"}]}}


def test_text_output_is_readable() -> None:
    text = render(
        {"group": {"name": "T", "admin": True, "relays": [], "note": None}}, as_json=False
    )
    assert text.splitlines() == ["group:", "  name: T", "  admin: yes", "  relays: []", "  note: -"]


def test_bad_usage_exits_2_with_one_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "group", "create", "N"]) == 2  # --member is required
    out, _ = capsys.readouterr()
    error = json.loads(out)["error"]
    assert out.count("\n") == 1 and error["type"] == "UsageError"
    assert "--member" in error["message"]
    assert main(["group", "nonsense"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "usage:" in err and "invalid choice" in err


class _Status:
    def __init__(self, up: bool) -> None:
        self.is_connected = up


class _Account:
    """What `_catch_up` reads of a session: the sync engine's verdict and relay states."""

    def __init__(self, finished: bool, up: dict[str, bool]) -> None:
        self.finished = finished
        self.up = up
        self.sync_engine = self
        self.pool = self

    async def idle(self, timeout: float | None = None) -> bool:
        return self.finished

    @property
    def relays(self) -> tuple[str, ...]:
        return tuple(self.up)

    def status(self, url: str) -> _Status:
        return _Status(self.up[url])


@pytest.mark.parametrize(
    ("finished", "up", "warning"),
    [
        (True, {"ws://a": True}, ""),
        (False, {"ws://a": True}, "not caught up (unfinished after 3s"),
        (True, {"ws://a": True, "ws://b": False}, "not caught up (not reached: ws://b)"),
    ],
)
def test_an_incomplete_catch_up_is_said_on_stderr(
    finished: bool, up: dict[str, bool], warning: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["--timeout", "3", "--sync", "group", "list"])
    session: Any = _Account(finished, up)
    cli = Cli(cast(Services, None), args, lambda: "", session)
    assert asyncio.run(_catch_up(cli)) is (not warning)
    _, err = capsys.readouterr()
    assert (warning in err and "may be stale" in err) if warning else err == ""


def test_a_bad_environment_is_one_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BURROW_LOCAL_RELAY", "http://not-a-relay")
    assert main(["--json", "--data-dir", str(tmp_path), "account", "list"]) == 1
    out, _ = capsys.readouterr()
    assert out.count("\n") == 1
    error = json.loads(out)["error"]
    assert error["type"] == "InvalidInput" and "ws://" in error["message"]
    monkeypatch.setenv("BURROW_RECONNECT_MAX", "soon")
    monkeypatch.delenv("BURROW_LOCAL_RELAY")
    assert main(["--data-dir", str(tmp_path), "account", "list"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "error: BURROW_RECONNECT_MAX must be a number of seconds\n"
