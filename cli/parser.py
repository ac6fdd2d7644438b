"""The command line: ``python main.py cli [--data-dir DIR] [--json] COMMAND ...``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn, cast

from cli import media as media_cli
from cli import push as push_cli


class UsageError(Exception):
    """The command line does not parse (exit code 2; with ``--json`` one error object)."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class Parser(argparse.ArgumentParser):
    """Raises `UsageError` instead of printing and exiting, so ``--json`` can answer."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", self.format_usage())


def _sub(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str
) -> argparse.ArgumentParser:
    return parent.add_parser(name, help=help_, description=help_)


def _account(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = _sub(commands, "account", "create, import, show or export the identity")
    sub = account.add_subparsers(dest="action", required=True)
    create = _sub(sub, "create", "create a new identity")
    create.add_argument("--name", required=True, help="your profile name")
    imported = _sub(
        sub,
        "import",
        "import an existing nsec or ncryptsec (NIP-49; opened with BURROW_KEY_PASSPHRASE,"
        " else the account passphrase), or sign in with a remote signer's bunker:// string"
        " (NIP-46: the key stays in the signer, nothing secret is stored here)",
    )
    imported.add_argument("nsec", metavar="NSEC|NCRYPTSEC|BUNKER_URI")
    imported.add_argument("--name", default="", help="a local label")
    connect = _sub(
        sub,
        "connect",
        "sign in with a remote signer (NIP-46) by offering a nostrconnect:// string (printed"
        " on stderr) for it to take up",
    )
    connect.add_argument("--name", default="", help="a local label")
    connect.add_argument(
        "--wait", type=float, default=120.0, metavar="SECONDS", help="how long to wait"
    )
    for parser in (create, imported, connect):
        parser.add_argument(
            "--relays",
            default="local",
            metavar="WHERE",
            help="`local` (this computer only, the default), `public` (well-known public"
            " relays: relay.damus.io, relay.primal.net, nos.lol) or comma-separated URLs",
        )
    _sub(sub, "show", "show the account")
    _sub(sub, "export-nsec", "print the secret key (nsec)")
    _sub(
        sub,
        "export-ncryptsec",
        "print the secret key encrypted (NIP-49 ncryptsec) under BURROW_KEY_PASSPHRASE,"
        " else the account passphrase",
    )
    _sub(sub, "list", "list the accounts in the data folder")
    profile = _sub(sub, "profile", "publish your profile")
    profile.add_argument("--name")
    profile.add_argument("--about")
    picture = profile.add_mutually_exclusive_group()
    picture.add_argument("--picture", metavar="URL", help="an https picture URL ('' removes it)")
    picture.add_argument(
        "--picture-file",
        metavar="PATH",
        help="an image: put on your https Blossom server, else inline in the profile",
    )
    profile.add_argument("--nip05", metavar="NAME@DOMAIN", help="your NIP-05 address")
    change = _sub(sub, "passphrase", "change the passphrase (new one from BURROW_NEW_PASSPHRASE)")
    change.add_argument("--new", help="the new passphrase (default: BURROW_NEW_PASSPHRASE)")
    _sub(sub, "delete", "delete this account's local data")


def _relays_and_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    relays = _sub(commands, "relays", "your relays")
    sub = relays.add_subparsers(dest="action", required=True)
    set_ = _sub(sub, "set", "use exactly these relays (publishes 10002, 10050, 10051)")
    set_.add_argument("urls", nargs="+", metavar="URL")
    add = _sub(sub, "add", "add a relay")
    add.add_argument("url")
    remove = _sub(sub, "remove", "remove a relay")
    remove.add_argument("url")
    for parser in (set_, add, remove):
        parser.add_argument(
            "--list",
            choices=("nip65", "inbox", "key_packages"),
            help="only this list: nip65 (10002, read/write), inbox (10050, where invites"
            " reach you), key_packages (10051); default: all three",
        )
    listing = _sub(sub, "list", "list relays")
    listing.add_argument("--status", action="store_true", help="connect to show live status")

    keys = _sub(commands, "keypackage", "your key packages (MIP-00)")
    sub = keys.add_subparsers(dest="action", required=True)
    _sub(sub, "publish", "publish a new key package")
    listing = _sub(sub, "list", "list key packages")
    listing.add_argument("--relays", action="store_true", help="also the ones on relays")


def _people(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contacts = _sub(commands, "contacts", "people you follow")
    sub = contacts.add_subparsers(dest="action", required=True)
    add = _sub(sub, "add", "follow someone by npub, nprofile or name@domain (NIP-05)")
    add.add_argument("person", metavar="NPUB|NAME@DOMAIN")
    add.add_argument("--name")
    _sub(sub, "list", "list contacts")
    picture = _sub(sub, "picture", "fetch someone's profile picture (or yours) into the store")
    picture.add_argument("person", metavar="NPUB", nargs="?")
    picture.add_argument("--save", metavar="FILE", help="also write it to FILE")
    block = _sub(sub, "block", "drop someone's invites and messages")
    block.add_argument("person", metavar="NPUB")
    unblock = _sub(sub, "unblock", "stop blocking someone")
    unblock.add_argument("person", metavar="NPUB")

    devices = _sub(commands, "devices", "your installs of this identity")
    sub = devices.add_subparsers(dest="action", required=True)
    _sub(sub, "list", "list devices")
    remove = _sub(sub, "remove", "remove a lost device's leaves and key packages")
    remove.add_argument("device")


def _groups(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _sub(commands, "group", "groups and 1:1 chats")
    sub = group.add_subparsers(dest="action", required=True)
    create = _sub(sub, "create", "create a group (a 1:1 chat: one member, empty name)")
    create.add_argument("name")
    create.add_argument("--member", action="append", default=[], metavar="NPUB", required=True)
    create.add_argument("--description", default="")
    create.add_argument(
        "--profile",
        choices=("mip", "darkmatter"),
        help="the Marmot version: mip (v1) or darkmatter (v2, Dark Matter); default: the one"
        " every invitee's key packages speak",
    )
    _sub(sub, "list", "list groups")
    for name, help_ in (("show", "members, admins, epoch, relays"), ("leave", "leave the group")):
        parser = _sub(sub, name, help_)
        parser.add_argument("group")
    for name, help_ in (("add", "invite people"), ("remove", "remove people")):
        parser = _sub(sub, name, help_)
        parser.add_argument("group")
        parser.add_argument("people", nargs="+", metavar="NPUB")
    for name, help_ in (("promote", "make an admin"), ("demote", "take admin rights away")):
        parser = _sub(sub, name, help_)
        parser.add_argument("group")
        parser.add_argument("person", metavar="NPUB")
    rename = _sub(sub, "rename", "rename the group")
    rename.add_argument("group")
    rename.add_argument("name")
    describe = _sub(sub, "describe", "change the description")
    describe.add_argument("group")
    describe.add_argument("description")
    timer = _sub(sub, "disappearing", "messages disappear this many seconds after (0: off)")
    timer.add_argument("group")
    timer.add_argument("seconds", type=int)
    update = _sub(sub, "self-update", "rotate our leaf's keys in the group")
    update.add_argument("group")
    media_cli.add_group_picture(sub)

    invites = _sub(commands, "invites", "pending invitations")
    sub = invites.add_subparsers(dest="action", required=True)
    _sub(sub, "list", "list pending invites")
    for name in ("accept", "decline"):
        parser = _sub(sub, name, f"{name} an invite")
        parser.add_argument("invite", metavar="ID")


class _EditForm(argparse.Action):
    """``messages edit GROUP ID TEXT``: argparse reads "edit" as the group, the rest here."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        words = list(values or [])
        namespace.action = None
        if not words:
            return
        if namespace.group != "edit" or len(words) != 3:
            parser.error("unexpected words after the group (to edit: messages edit GROUP ID TEXT)")
        namespace.action = "edit"
        namespace.group, namespace.message, namespace.text = words


def _messages(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = _sub(commands, "send", "send a message (with --file: an encrypted attachment)")
    send.add_argument("group")
    send.add_argument("text", nargs="?", default=None, help="the text (with --file: a caption)")
    send.add_argument("--file", metavar="PATH", help="attach this file (image, video, any file)")
    send.add_argument("--reply-to", metavar="ID")
    react = _sub(commands, "react", "react to a message")
    react.add_argument("group")
    react.add_argument("message", metavar="ID")
    react.add_argument("emoji")
    delete = _sub(commands, "delete", "delete one of your messages")
    delete.add_argument("group")
    delete.add_argument("message", metavar="ID")
    retry = _sub(commands, "retry", "send a failed message again")
    retry.add_argument("group")
    retry.add_argument("message", metavar="ID")
    messages = _sub(
        commands,
        "messages",
        "show messages, oldest first; `messages edit GROUP ID TEXT` changes the text of one"
        " of yours for everyone (Marmot v2 groups only)",
    )
    messages.add_argument("group")
    messages.add_argument("edit", nargs="*", action=_EditForm, help=argparse.SUPPRESS)
    messages.add_argument("--limit", type=int, default=50)
    messages.add_argument("--all-kinds", action="store_true", help="include non-chat kinds")
    messages.add_argument(
        "--changes", action="store_true", help="include the group's own changes, in words"
    )
    read = _sub(commands, "read", "mark a group read")
    read.add_argument("group")
    search = _sub(commands, "search", "search message text")
    search.add_argument("text")
    search.add_argument("--group")
    search.add_argument("--limit", type=int, default=20)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="burrow cli",
        description="Burrow headless client: end-to-end encrypted Marmot groups over Nostr.",
    )
    parser.add_argument("--data-dir", help="data folder (default: ~/.local/share/burrow)")
    parser.add_argument("--json", action="store_true", help="one JSON object per command")
    parser.add_argument("--account", help="which account (hex, npub or name) if several")
    parser.add_argument("--timeout", type=float, default=20.0, help="network timeout (s)")
    parser.add_argument(
        "--sync", action="store_true", help="connect and catch up before the command"
    )
    # Every sub-parser is a `Parser` too (argparse copies the class); typed as the base.
    commands = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True),
    )
    _account(commands)
    _relays_and_keys(commands)
    _people(commands)
    _groups(commands)
    _messages(commands)
    media_cli.add_parser(commands)
    push_cli.add_parser(commands)
    sync = _sub(commands, "sync", "connect, catch up, process everything, flush, exit")
    sync.add_argument("--timeout", type=float, dest="sync_timeout", default=30.0)
    listen = _sub(commands, "listen", "stay connected and print every event")
    listen.add_argument("--timeout", type=float, dest="listen_timeout", default=None)
    return parser
