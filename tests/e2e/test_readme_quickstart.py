"""The README's CLI quick start, exactly as written, every line its own shell command.

Each `burrow cli` line is a short-lived process: whichever runs serves the embedded relay
from the shared store (in a temporary XDG_STATE_HOME) and exits, so this passes only if
events outlive the process that received them. Placeholders in angle brackets are filled
from what earlier commands printed, as a person would."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers.relay import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
INTRO = "The quick start, Alice and Bob on one machine"


def readme_commands() -> list[str]:
    """The indented block after the quick start's introduction in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(INTRO) :].split("\n\n", 1)[1]
    block = after.split("\n\n", 1)[0]
    lines = block.splitlines()
    assert lines and all(line.startswith("    ") for line in lines), block
    return [line.strip() for line in lines]


def test_the_readme_quick_start_works_with_short_lived_processes(tmp_path: Path) -> None:
    commands = readme_commands()
    assert commands[:3] == [
        "make install",
        ". .venv/bin/activate",
        "export BURROW_PASSPHRASE='correct horse battery staple'",
    ]
    env = dict(os.environ)
    env.pop("BURROW_EMBEDDED_RELAY", None)  # the default: on
    env.update(
        BURROW_LOCAL_RELAY=f"ws://127.0.0.1:{free_port()}",
        BURROW_LOCAL_BLOSSOM=f"http://127.0.0.1:{free_port()}",
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "burrow-e2e-pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    preamble = "; ".join(commands[1:3])  # the venv and the passphrase, for every line
    seen: dict[str, str] = {}
    outputs = []
    for line in commands[3:]:
        command = _fill(line, seen).replace("/tmp/", f"{tmp_path}/")
        proc = subprocess.run(
            ["bash", "-c", f"{preamble}; {command}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        assert "warning" not in proc.stderr, f"{line}\n{proc.stderr}"
        outputs.append(proc.stdout)
        if "account create --name Bob" in line:
            seen["npub"] = re.findall(r"npub: (npub1\w+)", proc.stdout)[0]
        if "group create" in line:
            seen["group"] = re.findall(r"^  id: ([0-9a-f]{64})$", proc.stdout, re.M)[0]
    invites, bob_reads, alice_reads = outputs[3], outputs[6], outputs[8]
    assert "group_name: Friends" in invites
    assert re.findall(r"content: (.*)", bob_reads) == ["hello Bob"]
    assert re.findall(r"content: (.*)", alice_reads) == ["hello Bob", "hi Alice"]
    assert not (tmp_path / "alice" / "relay").exists()  # nothing kept per data folder


def _fill(line: str, seen: dict[str, str]) -> str:
    line = line.replace("<Bob's npub>", seen.get("npub", "<Bob's npub>"))
    line = line.replace("<the first 8 characters of the group id>", seen.get("group", "")[:8])
    line = line.replace("<group id prefix>", seen.get("group", "")[:8])
    assert "<" not in line, f"a placeholder the test does not know: {line}"
    return line


def test_the_make_install_line_is_cheap_on_an_installed_checkout() -> None:
    """`make install` in the quick start does nothing when the venv is current."""
    proc = subprocess.run(
        ["make", "-q", "install"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
