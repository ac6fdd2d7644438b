"""The CLI with no relay reachable: local commands work, errors are one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nostr.keys import SecretKey
from tests.helpers.relay import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _cli(
    data: Path,
    *args: str,
    passphrase: str = "pw",
    relay: str = "",
    env: dict[str, str] | None = None,
) -> tuple[int, Any]:
    code, out, _ = _cli_err(data, *args, passphrase=passphrase, relay=relay, env=env)
    return code, out


def _cli_err(
    data: Path,
    *args: str,
    passphrase: str = "pw",
    relay: str = "",
    env: dict[str, str] | None = None,
) -> tuple[int, Any, str]:
    """Like `_cli`, with the command's stderr too; ``env`` overrides the environment."""
    environ = dict(os.environ)
    environ.update(
        BURROW_PASSPHRASE=passphrase,
        BURROW_EMBEDDED_RELAY="0",
        BURROW_LOCAL_RELAY=relay,
    )
    environ.update(env or {})
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "cli",
            "--data-dir",
            str(data),
            "--json",
            "--timeout",
            "2",
            *args,
        ],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    return proc.returncode, json.loads(lines[0]), proc.stderr


def test_offline_account_and_errors(tmp_path: Path) -> None:
    relay = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    code, out = _cli(tmp_path, "account", "create", "--name", "Solo", relay=relay)
    assert code == 0 and out["account"]["name"] == "Solo"
    code, out = _cli(tmp_path, "account", "show", relay=relay)
    assert code == 0 and out["account"]["relays"] == [relay]
    code, out = _cli(tmp_path, "account", "show", passphrase="wrong", relay=relay)
    assert code == 1 and out["error"]["type"] == "WrongPassphrase"
    code, out = _cli(tmp_path, "group", "show", "abcd", relay=relay)
    assert code == 1 and out["error"]["type"] == "NotFound"
    code, out = _cli(tmp_path, "contacts", "add", "npub1nope", relay=relay)
    assert code == 1 and out["error"]["type"] == "InvalidInput"
    code, out = _cli(tmp_path, "keypackage", "list", relay=relay)
    # One per Marmot profile, neither published yet.
    assert code == 0 and len(out["local"]) == 2 and not any(k["live"] for k in out["local"])
    code, out = _cli(tmp_path, "sync", "--timeout", "2", relay=relay)
    assert code == 0 and out["sync"]["outbox_pending"] >= 1  # kept for later, not lost
    # A catch-up that could not reach the relay says so instead of passing for current.
    code, out, err = _cli_err(tmp_path, "--sync", "group", "list", relay=relay)
    assert code == 0 and out["groups"] == [] and out["caught_up"] is False
    assert f"not caught up (not reached: {relay})" in err


def test_commands_that_look_at_relays_serve_the_local_relay_first(tmp_path: Path) -> None:
    """With the embedded relay on, the local relay exists only while a Burrow process
    serves it: `keypackage list --relays` and `relays list --status` serve it too."""
    relay = f"ws://127.0.0.1:{free_port()}"
    embedded = {"BURROW_EMBEDDED_RELAY": "1"}
    code, out = _cli(tmp_path, "account", "create", "--name", "Solo", relay=relay, env=embedded)
    assert code == 0
    code, out = _cli(tmp_path, "keypackage", "list", "--relays", relay=relay, env=embedded)
    assert code == 0 and len(out["relays"]) == 1, out
    assert out["relays"][0]["event_id"] in {k["event_id"] for k in out["local"]}  # A of two
    code, out = _cli(tmp_path, "relays", "list", "--status", relay=relay, env=embedded)
    assert code == 0 and out["relays"][0]["status"] == "connected", out


def test_inviting_someone_without_a_key_package_says_where_we_looked(tmp_path: Path) -> None:
    relay = f"ws://127.0.0.1:{free_port()}"
    embedded = {"BURROW_EMBEDDED_RELAY": "1"}
    code, _ = _cli(tmp_path, "account", "create", "--name", "Solo", relay=relay, env=embedded)
    assert code == 0
    nobody = SecretKey.from_hex("22" * 32).public_key().to_bech32()
    code, out = _cli(
        tmp_path, "group", "create", "G", "--member", nobody, relay=relay, env=embedded
    )
    assert code == 1 and out["error"]["type"] == "NoKeyPackage"
    message = out["error"]["message"]
    assert f"has no key package on {relay}" in message and nobody[:14] in message
    assert "open Burrow once" not in message
