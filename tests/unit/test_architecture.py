"""The dependency direction of docs/architecture.md section 4.2, checked on the source.

import-linter (``make imports``) checks the layers between our packages; this test also
covers the standard library, which import-linter does not model, and the purity rules.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

OURS = {"mls", "nostr", "marmot", "storage", "app", "cli", "ui", "push_server", "main"}

# I/O, threads, clocks and global randomness: never in a pure protocol core.
IMPURE_STDLIB = {
    "asyncio",
    "threading",
    "socket",
    "selectors",
    "ssl",
    "sqlite3",
    "subprocess",
    "multiprocessing",
    "concurrent",
    "http",
    "urllib",
    "random",
    "time",
    "logging",
}

# package (or sub-package) -> (Burrow packages it may import, third-party it may import,
#                               stdlib it must not import)
RULES: dict[str, tuple[set[str], set[str], set[str]]] = {
    "mls": ({"mls"}, {"cryptography", "nacl"}, IMPURE_STDLIB),
    "nostr": ({"nostr"}, {"cryptography", "coincurve"}, IMPURE_STDLIB),
    "nostr.relay": ({"nostr"}, {"websockets", "httpx"}, set()),
    "marmot": ({"marmot", "mls", "nostr"}, {"cryptography"}, IMPURE_STDLIB),
    "storage": ({"storage"}, {"sqlcipher3"}, set()),
    "app": ({"app", "marmot", "mls", "nostr", "storage"}, {"nostr_sdk", "PIL"}, set()),
    "ui": ({"ui", "app"}, {"PySide6", "shiboken6", "qasync"}, set()),
    "cli": ({"cli", "app"}, set(), set()),
    "push_server": ({"push_server", "marmot", "nostr"}, set(), set()),
}
# The pure part of nostr may not reach into its own I/O sub-package.
FORBIDDEN_INTERNAL = {"nostr": {"nostr.relay"}, "marmot": {"nostr.relay"}}
# Extra stdlib allowed only in one file: the default rng of the crypto module.
FILE_EXCEPTIONS: dict[str, set[str]] = {}


def _rule_key(module: str) -> str | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in RULES:
            return key
    return None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _source_files() -> list[tuple[str, Path]]:
    out = []
    for package in sorted(RULES):
        if "." in package:
            continue
        folder = ROOT / package
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            rel = path.relative_to(ROOT).with_suffix("")
            module = ".".join(rel.parts).removesuffix(".__init__")
            out.append((module, path))
    return out


SOURCES = _source_files()


def _violations(module: str, path: Path) -> list[str]:
    key = _rule_key(module)
    assert key is not None
    ours_allowed, third_allowed, stdlib_banned = RULES[key]
    exceptions = FILE_EXCEPTIONS.get(module, set())
    bad = []
    for name in _imports(path):
        top = name.split(".")[0]
        if top in OURS:
            allowed = top in ours_allowed and not any(
                name == f or name.startswith(f + ".") for f in FORBIDDEN_INTERNAL.get(key, set())
            )
            if not allowed:
                bad.append(name)
        elif top in sys.stdlib_module_names:
            if top in stdlib_banned and top not in exceptions:
                bad.append(name)
        elif top not in third_allowed and top != "__future__":
            bad.append(name)
    return bad


@pytest.mark.parametrize(("module", "path"), SOURCES, ids=[m for m, _ in SOURCES])
def test_module_respects_dependency_rules(module: str, path: Path) -> None:
    assert _violations(module, path) == []


def test_rules_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncio\nimport storage\nfrom PySide6 import QtCore\n")
    assert _violations("mls.bad", bad) == ["asyncio", "storage", "PySide6", "PySide6.QtCore"]


@pytest.mark.parametrize("name", ["mls", "nostr", "marmot", "storage", "app", "cli", "ui"])
def test_packages_resolve_to_this_repository(name: str) -> None:
    if not (ROOT / name).is_dir():
        pytest.skip(f"{name}/ does not exist yet")
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT / name)
