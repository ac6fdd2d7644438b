"""Run one CLI command: unlock, connect when needed, call the service, print, exit.

Exit codes: 0 success, 1 a refused or failed operation (an ``AppError``), 2 bad usage.
With ``--json`` stdout carries exactly one JSON object (``{"error": {...}}`` on failure);
``listen`` prints one JSON line per app event instead. Logs go to stderr.

A command that catches up first (``--sync``, or one that needs the network) adds
``"caught_up": false`` to its result, and a warning to stderr, when the catch-up did not
finish within ``--timeout`` or a relay was not reached: what it shows may be stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from app import AppConfig, AppError, Services
from app.errors import InvalidInput, translate
from cli.commands import COMMANDS, Cli, Needs
from cli.output import render
from cli.parser import UsageError, build_parser

log = logging.getLogger("burrow.cli")
_CREATE = {("account", "create"), ("account", "import"), ("account", "connect")}


def _passphrase_source() -> Callable[[], str]:
    """``BURROW_PASSPHRASE``, else a prompt on a terminal; asked at most once."""
    cached: list[str] = []

    def get() -> str:
        if not cached:
            value = os.environ.get("BURROW_PASSPHRASE")
            if value is None:
                if not sys.stdin.isatty():
                    raise InvalidInput("set BURROW_PASSPHRASE (no terminal to ask on)")
                value = getpass.getpass("Passphrase: ")
            cached.append(value)
        return cached[0]

    return get


async def _run(cli: Cli) -> dict[str, Any] | None:
    args = cli.args
    services = cli.services
    key = (args.command, getattr(args, "action", None))
    if args.command == "listen":
        await _listen(cli)
        return None
    command = COMMANDS[key]
    needs = command.needs
    if needs is Needs.ACCOUNT and args.sync and args.command != "sync":
        needs = Needs.NETWORK
    if needs is not Needs.NONE:
        cli.session = await services.unlock(args.account, cli.passphrase())
    caught_up = True
    if needs is Needs.NETWORK:
        await services.start()
        await cli.account.start(live=False)
        caught_up = await _catch_up(cli)
    elif args.command == "sync" or key in _CREATE:
        await services.start()
    result = await command.run(cli)
    if cli.session is not None and (needs is Needs.NETWORK or key in _CREATE):
        await cli.account.flush(args.timeout)
    if not caught_up:
        result["caught_up"] = False
    return result


async def _catch_up(cli: Cli) -> bool:
    """Wait for the catch-up of every relay; False (said on stderr) when it is incomplete."""
    account = cli.account
    timeout = cli.args.timeout
    finished = await account.sync_engine.idle(timeout)
    # A relay not connected in time was skipped, not caught up.
    missed = [u for u in account.pool.relays if not account.pool.status(u).is_connected]
    if finished and not missed:
        return True
    reason = (
        f"not reached: {', '.join(missed)}"
        if missed
        else f"unfinished after {timeout:g}s, or a relay's catch-up failed"
    )
    sys.stderr.write(f"warning: not caught up ({reason}); the result may be stale\n")
    return False


async def _listen(cli: Cli) -> None:
    """Stay connected; print every app event until SIGINT/SIGTERM or ``--timeout``."""
    cli.session = await cli.services.unlock(cli.args.account, cli.passphrase())
    stream = cli.services.bus.stream()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await cli.services.start()
    starter = asyncio.ensure_future(cli.account.start(live=True))
    deadline = (
        None if cli.args.listen_timeout is None else time.monotonic() + cli.args.listen_timeout
    )
    try:
        while not stop.is_set():
            wait = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if wait <= 0:
                break
            event = await stream.next(wait)
            if event is not None:
                _emit_line(event.to_dict(), cli.args.json)
    finally:
        stream.close()
        if not starter.done():
            starter.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starter


def _emit_line(data: dict[str, Any], as_json: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if as_json:
        out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        kind = data.pop("type", "event")
        data.pop("account", None)
        out.write(f"{kind}: {json.dumps(data, ensure_ascii=False)}\n")
    out.flush()


async def _main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        if "--json" in argv:
            error = {"type": "UsageError", "message": exc.message}
            sys.stdout.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
        else:
            sys.stderr.write(f"{exc.usage}{exc.message}\n")
        return 2
    try:
        services = Services(AppConfig.from_env(args.data_dir))  # the environment is checked
    except Exception as exc:
        _print_error(translate(exc), args.json)
        return 1
    cli = Cli(services, args, _passphrase_source())
    try:
        result = await _run(cli)
    except AppError as exc:
        _print_error(exc, args.json)
        return 1
    except Exception as exc:  # the process boundary: report, never a bare traceback
        log.debug("command failed", exc_info=True)
        _print_error(translate(exc), args.json)
        return 1
    finally:
        await services.close()
    if result is not None:
        sys.stdout.write(render(result, as_json=args.json))
        sys.stdout.flush()
    return 0


def _print_error(exc: AppError, as_json: bool) -> None:
    if as_json:
        error = {"type": type(exc).__name__, "message": exc.message}
        sys.stdout.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"error: {exc.message}\n")


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=os.environ.get("BURROW_LOG", "WARNING").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return asyncio.run(_main(argv))
    except KeyboardInterrupt:
        return 130
