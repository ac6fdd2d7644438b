"""Command line and environment of ``python -m push_server``.

Every flag has an environment fallback (flags win), so the server can run from a unit
file or a container without a command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nostr.errors import DecodeError, NostrError
from nostr.keys import SecretKey
from nostr.relay_url import normalize_relay_url
from push_server.processor import DEFAULT_MAX_AGE

DESCRIPTION = """\
Burrow's MIP-05 notification server (mdk-core 0.8 "mip05-v1" format).

Listens for kind-1059 gift wraps addressed to its key on its inbox relays (publishing that
list as its kind-10050 event), opens each kind-446 notification request, decrypts the
device tokens inside and hands each (platform, device token) to a delivery backend: a JSON
lines file or an HTTP webhook.
"""

EPILOG = """\
environment (used when the flag is absent):
  BURROW_PUSH_KEY             secret key, hex or nsec (instead of a key file)
  BURROW_PUSH_KEY_FILE        --key-file
  BURROW_PUSH_RELAYS          --relay, comma-separated
  BURROW_PUSH_ANNOUNCE        --announce-relay, comma-separated
  BURROW_PUSH_BACKEND         --backend
  BURROW_PUSH_LOG_FILE        --log-file
  BURROW_PUSH_WEBHOOK_URL     --webhook-url
  BURROW_PUSH_WEBHOOK_AUTH    value of an Authorization header sent to the webhook
  BURROW_PUSH_MAX_AGE         --max-age
  BURROW_PUSH_STATE_FILE      --state-file
"""


class ConfigError(Exception):
    """The configuration is incomplete or invalid; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    secret: SecretKey = field(repr=False)
    relays: tuple[str, ...]
    """Inbox relays: where triggers are read, listed in the server's kind 10050."""
    announce_relays: tuple[str, ...] = ()
    """Further relays that get the kind 10050 (where clients look it up)."""
    backend: str = "file"
    log_file: Path | None = None
    webhook_url: str | None = None
    webhook_timeout: float = 10.0
    webhook_retries: int = 3
    webhook_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    max_age: int = DEFAULT_MAX_AGE
    state_file: Path | None = None


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m push_server",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _key_options(p, env)
    _relay_options(p)
    _backend_options(p, env)
    p.add_argument(
        "--max-age",
        type=int,
        metavar="SECONDS",
        default=env.get("BURROW_PUSH_MAX_AGE", str(DEFAULT_MAX_AGE)),
        help="ignore triggers older than this (default %(default)s)",
    )
    p.add_argument(
        "--state-file",
        type=Path,
        default=env.get("BURROW_PUSH_STATE_FILE"),
        help="remembers handled triggers across restarts (no double pushes)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every trigger")
    return p


def _key_options(p: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    p.add_argument(
        "--key-file",
        type=Path,
        default=env.get("BURROW_PUSH_KEY_FILE"),
        help="file holding the server's secret key (hex or nsec)",
    )
    p.add_argument(
        "--generate-key",
        action="store_true",
        help="create --key-file with a new key if it does not exist",
    )
    p.add_argument(
        "--show-key", action="store_true", help="print the public key (hex and npub) and exit"
    )


def _relay_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--relay",
        action="append",
        dest="relays",
        metavar="URL",
        help="inbox relay to read triggers from (repeatable)",
    )
    p.add_argument(
        "--announce-relay",
        action="append",
        dest="announce",
        metavar="URL",
        help="extra relay to publish the kind-10050 list to (repeatable)",
    )


def _backend_options(p: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    p.add_argument(
        "--backend", choices=("file", "webhook"), default=env.get("BURROW_PUSH_BACKEND", "file")
    )
    p.add_argument(
        "--log-file",
        type=Path,
        default=env.get("BURROW_PUSH_LOG_FILE"),
        help="JSON lines of delivered notifications (file backend)",
    )
    p.add_argument(
        "--webhook-url",
        default=env.get("BURROW_PUSH_WEBHOOK_URL"),
        help="http(s) URL that receives one JSON POST per device",
    )
    p.add_argument("--webhook-timeout", type=float, default=10.0, metavar="SECONDS")
    p.add_argument(
        "--webhook-retries",
        type=int,
        default=3,
        help="retries after a network error, 429 or 5xx, with backoff (default %(default)s)",
    )
    p.add_argument("--webhook-header", action="append", default=[], metavar="NAME:VALUE")


def load_secret(args: argparse.Namespace, env: Mapping[str, str]) -> SecretKey:
    """The key from ``--key-file`` (created with ``--generate-key``) or ``BURROW_PUSH_KEY``."""
    if args.key_file is not None:
        path = Path(args.key_file)
        if not path.exists() and args.generate_key:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(SecretKey.generate().secret_hex() + "\n")
        try:
            return parse_secret(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read the key file: {exc}") from None
    if env.get("BURROW_PUSH_KEY"):
        return parse_secret(env["BURROW_PUSH_KEY"])
    raise ConfigError(
        "no key: pass --key-file (with --generate-key for a new one) or set BURROW_PUSH_KEY"
    )


def parse_secret(text: str) -> SecretKey:
    text = text.strip()
    try:
        return SecretKey.from_bech32(text) if text.startswith("nsec1") else SecretKey.from_hex(text)
    except NostrError:
        raise ConfigError("the secret key must be 64 hex characters or an nsec") from None


def _relays(values: Sequence[str] | None, env_value: str | None) -> tuple[str, ...]:
    raw = list(values) if values else [u for u in (env_value or "").split(",") if u.strip()]
    try:
        return tuple(dict.fromkeys(normalize_relay_url(u.strip()) for u in raw))
    except DecodeError as exc:
        raise ConfigError(str(exc)) from None


def _headers(values: Sequence[str], env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    headers = []
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--webhook-header wants NAME:VALUE, got {value!r}")
        headers.append((name.strip(), content.strip()))
    if env.get("BURROW_PUSH_WEBHOOK_AUTH"):
        headers.append(("Authorization", env["BURROW_PUSH_WEBHOOK_AUTH"]))
    return tuple(headers)


def config_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> ServerConfig:
    secret = load_secret(args, env)
    relays = _relays(args.relays, env.get("BURROW_PUSH_RELAYS"))
    if not relays:
        raise ConfigError("no inbox relay: pass --relay URL (or set BURROW_PUSH_RELAYS)")
    if args.backend == "file" and args.log_file is None:
        raise ConfigError("the file backend needs --log-file")
    if args.backend == "webhook" and not (args.webhook_url or "").startswith(
        ("http://", "https://")
    ):
        raise ConfigError("the webhook backend needs --webhook-url http(s)://...")
    if args.max_age <= 0 or args.webhook_retries < 0 or args.webhook_timeout <= 0:
        raise ConfigError("--max-age and --webhook-timeout must be positive, retries >= 0")
    return ServerConfig(
        secret=secret,
        relays=relays,
        announce_relays=_relays(args.announce, env.get("BURROW_PUSH_ANNOUNCE")),
        backend=args.backend,
        log_file=args.log_file,
        webhook_url=args.webhook_url,
        webhook_timeout=args.webhook_timeout,
        webhook_retries=args.webhook_retries,
        webhook_headers=_headers(args.webhook_header, env),
        max_age=args.max_age,
        state_file=args.state_file,
    )
