"""What each CLI command does, as a call into the ``app`` services.

A command declares what it needs: ``NONE`` (the data folder only), ``ACCOUNT`` (an unlocked
account, nothing on the wire) or ``NETWORK`` (connected and caught up first; the outbox is
flushed before the process exits). It returns a JSON-able dict: the one object ``--json``
prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from app import AccountSession, Services
from app.errors import InvalidInput, NotFound
from app.models import to_jsonable
from app.people import sniff
from app.relays import list_kind
from cli import media as media_cli
from cli import messages as messages_cli
from cli import push as push_cli
from cli import words


class Needs(Enum):
    NONE = "none"
    ACCOUNT = "account"
    NETWORK = "network"


@dataclass(slots=True)
class Cli:
    services: Services
    args: argparse.Namespace
    passphrase: Callable[[], str]
    session: AccountSession | None = None

    @property
    def account(self) -> AccountSession:
        assert self.session is not None
        return self.session


Handler = Callable[[Cli], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Command:
    run: Handler
    needs: Needs


def _j(value: Any) -> Any:
    return to_jsonable(value)


# --- accounts ------------------------------------------------------------------------------


async def account_create(cli: Cli) -> dict[str, Any]:
    session = await cli.services.create_account(cli.args.name, cli.passphrase(), cli.args.relays)
    cli.session = session
    await session.start(live=False)
    return {"account": _j(_account_info(cli))}


def _key_passphrase() -> str | None:
    """The passphrase of an ncryptsec, when it differs from the account's."""
    return os.environ.get("BURROW_KEY_PASSPHRASE")


async def account_import(cli: Cli) -> dict[str, Any]:
    session = await cli.services.import_account(
        cli.args.nsec,
        cli.passphrase(),
        cli.args.name,
        cli.args.relays,
        key_passphrase=_key_passphrase(),
    )
    cli.session = session
    await session.start(live=False)
    return {"account": _j(_account_info(cli))}


async def account_connect(cli: Cli) -> dict[str, Any]:
    offer = await cli.services.offer_connection(cli.args.relays)
    sys.stderr.write(f"Paste this into your remote signer (or scan it):\n{offer.text}\n")
    sys.stderr.flush()
    session = await cli.services.accept_offer(
        offer, cli.passphrase(), cli.args.wait, cli.args.name, cli.args.relays
    )
    cli.session = session
    await session.start(live=False)
    return {"account": _j(_account_info(cli))}


def _account_info(cli: Cli) -> dict[str, Any]:
    session = cli.account
    npub = session.ctx.public_key.to_bech32()
    remote = session.account.remote
    return {
        "pubkey": session.pubkey,
        "npub": npub,
        "name": session.account.name,
        "relays": list(session.relays.mine),
        "signer": "local" if remote is None else f"remote ({remote.status.state.value})",
    }


async def account_show(cli: Cli) -> dict[str, Any]:
    info = _account_info(cli)
    info["device"] = await cli.account.key_packages.device_slot()
    profile = await cli.account.contacts.profile(cli.account.pubkey)
    info["nprofile"] = profile.nprofile
    return {"account": info}


async def account_export(cli: Cli) -> dict[str, Any]:
    return {"nsec": cli.services.export_nsec(cli.account.pubkey, cli.passphrase())}


async def account_export_ncryptsec(cli: Cli) -> dict[str, Any]:
    passphrase = cli.passphrase()
    key_passphrase = _key_passphrase() or passphrase
    text = await cli.services.export_ncryptsec(cli.account.pubkey, passphrase, key_passphrase)
    return {"ncryptsec": text}


async def account_list(cli: Cli) -> dict[str, Any]:
    return {"accounts": _j(cli.services.list_accounts())}


async def account_profile(cli: Cli) -> dict[str, Any]:
    picture = cli.args.picture
    if cli.args.picture_file:
        try:
            data = Path(cli.args.picture_file).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {cli.args.picture_file}: {exc.strerror}") from None
        picture = await cli.account.media.profile_picture(data)
    profile = await cli.account.contacts.publish_profile(
        name=cli.args.name, about=cli.args.about, picture=picture, nip05=cli.args.nip05
    )
    return {"profile": _j(profile)}


async def account_passphrase(cli: Cli) -> dict[str, Any]:
    new = cli.args.new or os.environ.get("BURROW_NEW_PASSPHRASE", "")
    if not new:
        raise InvalidInput("give the new passphrase with --new or BURROW_NEW_PASSPHRASE")
    await cli.services.change_passphrase(cli.account.pubkey, cli.passphrase(), new)
    return {"changed": True}


async def account_delete(cli: Cli) -> dict[str, Any]:
    pubkey = cli.account.pubkey
    cli.session = None
    await cli.services.delete_account(pubkey)
    return {"deleted": pubkey}


# --- relays, key packages, contacts, devices -------------------------------------------


async def relays_set(cli: Cli) -> dict[str, Any]:
    relays = cli.account.relays
    changed = await relays.set_relays(cli.args.urls, list_kind(cli.args.list))
    return {"relays": list(changed), "lists": _j(relays.lists())}


async def relays_add(cli: Cli) -> dict[str, Any]:
    relays = cli.account.relays
    changed = await relays.add(cli.args.url, list_kind(cli.args.list))
    return {"relays": list(changed), "lists": _j(relays.lists())}


async def relays_remove(cli: Cli) -> dict[str, Any]:
    relays = cli.account.relays
    changed = await relays.remove(cli.args.url, list_kind(cli.args.list))
    return {"relays": list(changed), "lists": _j(relays.lists())}


async def relays_list(cli: Cli) -> dict[str, Any]:
    session = cli.account
    if cli.args.status:
        await cli.services.start()  # the local relay may be ours to serve
        await session.relays.sync_pool()
        await session.pool.wait_connected(timeout=session.ctx.config.timeouts.connect)
    return {
        "relays": _j(session.relays.info()),
        "lists": _j(session.relays.lists()),
        "discovery": list(session.ctx.config.discovery_relays),
    }


async def keypackage_publish(cli: Cli) -> dict[str, Any]:
    info, entry_id = await cli.account.key_packages.publish()
    await cli.account.outbox.wait(entry_id, cli.args.timeout)
    records = {k.ref: k for k in await cli.account.key_packages.list_local()}
    return {"key_package": _j(records.get(info.ref, info))}


async def keypackage_list(cli: Cli) -> dict[str, Any]:
    session = cli.account
    out: dict[str, Any] = {"local": _j(await session.key_packages.list_local())}
    if cli.args.relays:
        await cli.services.start()  # the local relay may be ours to serve
        found = await session.key_packages.fetch_published(session.pubkey)
        out["relays"] = [
            {"event_id": k.event_id, "ref": k.ref.hex(), "device": k.d_tag} for k in found
        ]
    return out


async def contacts_add(cli: Cli) -> dict[str, Any]:
    return {"contact": _j(await cli.account.contacts.add(cli.args.person, cli.args.name))}


async def contacts_list(cli: Cli) -> dict[str, Any]:
    return {"contacts": _j(await cli.account.contacts.list_contacts())}


async def contacts_picture(cli: Cli) -> dict[str, Any]:
    session = cli.account
    person = await session.contacts.find(cli.args.person or session.pubkey)
    profile = await session.contacts.profile(person.pubkey, fetch=True)
    if not profile.picture:
        raise NotFound(f"{profile.name or profile.npub} has no profile picture")
    data = await session.people.picture(profile.picture)
    if data is None:
        raise NotFound(f"the picture at {profile.picture[:80]} could not be fetched")
    if cli.args.save:
        Path(cli.args.save).write_bytes(data)
    return {"picture": {"url": profile.picture, "type": sniff(data), "bytes": len(data)}}


async def contacts_block(cli: Cli) -> dict[str, Any]:
    return {"contact": _j(await cli.account.contacts.set_blocked(cli.args.person, True))}


async def contacts_unblock(cli: Cli) -> dict[str, Any]:
    return {"contact": _j(await cli.account.contacts.set_blocked(cli.args.person, False))}


async def devices_list(cli: Cli) -> dict[str, Any]:
    return {"devices": _j(await cli.account.devices.list_devices())}


async def devices_remove(cli: Cli) -> dict[str, Any]:
    return {"removed": _j(await cli.account.devices.remove(cli.args.device))}


# --- groups and invites ----------------------------------------------------------------


async def group_create(cli: Cli) -> dict[str, Any]:
    groups = cli.account.groups
    args = cli.args
    info = await groups.create(args.name, args.member, args.description, profile=args.profile)
    return {"group": words.group(info)}


async def group_list(cli: Cli) -> dict[str, Any]:
    return {"groups": [words.group(g) for g in await cli.account.groups.list_groups()]}


async def group_show(cli: Cli) -> dict[str, Any]:
    groups = cli.account.groups
    info = await groups.info(cli.args.group)
    return {"group": words.group(info), "unopened_events": _j(await groups.unopened(info.id))}


async def group_add(cli: Cli) -> dict[str, Any]:
    return {
        "group": words.group(await cli.account.groups.add_members(cli.args.group, cli.args.people))
    }


async def group_remove(cli: Cli) -> dict[str, Any]:
    info = await cli.account.groups.remove_members(cli.args.group, cli.args.people)
    return {"group": words.group(info)}


async def group_promote(cli: Cli) -> dict[str, Any]:
    return {"group": words.group(await cli.account.groups.promote(cli.args.group, cli.args.person))}


async def group_demote(cli: Cli) -> dict[str, Any]:
    return {"group": words.group(await cli.account.groups.demote(cli.args.group, cli.args.person))}


async def group_rename(cli: Cli) -> dict[str, Any]:
    return {
        "group": words.group(await cli.account.groups.rename(cli.args.group, name=cli.args.name))
    }


async def group_disappearing(cli: Cli) -> dict[str, Any]:
    info = await cli.account.groups.set_disappearing(cli.args.group, cli.args.seconds)
    return {"group": words.group(info)}


async def group_describe(cli: Cli) -> dict[str, Any]:
    info = await cli.account.groups.rename(cli.args.group, description=cli.args.description)
    return {"group": words.group(info)}


async def group_leave(cli: Cli) -> dict[str, Any]:
    return {"group": words.group(await cli.account.groups.leave(cli.args.group))}


async def group_self_update(cli: Cli) -> dict[str, Any]:
    return {"group": words.group(await cli.account.groups.self_update(cli.args.group))}


async def invites_list(cli: Cli) -> dict[str, Any]:
    return {"invites": _j(await cli.account.invites.list_invites())}


async def invites_accept(cli: Cli) -> dict[str, Any]:
    return {"group": words.group(await cli.account.invites.accept(cli.args.invite))}


async def invites_decline(cli: Cli) -> dict[str, Any]:
    return {"invite": _j(await cli.account.invites.decline(cli.args.invite))}


# --- messages ------------------------------------------------------------------------------


async def send(cli: Cli) -> dict[str, Any]:
    if cli.args.file:
        return await media_cli.send_file(cli)
    if cli.args.text is None:
        raise InvalidInput("say what to send: some text, or --file PATH")
    messages = cli.account.messages
    message = await messages.send(cli.args.group, cli.args.text, reply_to=cli.args.reply_to)
    final = await messages.wait_sent(message, cli.args.timeout)
    return {"message": _j(final)}


async def react(cli: Cli) -> dict[str, Any]:
    messages = cli.account.messages
    reaction = await messages.react(cli.args.group, cli.args.message, cli.args.emoji)
    return {"reaction": _j(await messages.wait_sent(reaction, cli.args.timeout))}


async def delete(cli: Cli) -> dict[str, Any]:
    messages = cli.account.messages
    deletion = await messages.delete(cli.args.group, cli.args.message)
    return {"deletion": _j(await messages.wait_sent(deletion, cli.args.timeout))}


async def retry(cli: Cli) -> dict[str, Any]:
    messages = cli.account.messages
    message = await messages.retry(cli.args.group, cli.args.message)
    return {"message": _j(await messages.wait_sent(message, cli.args.timeout))}


async def mark_read(cli: Cli) -> dict[str, Any]:
    return {"marked": await cli.account.messages.mark_read(cli.args.group)}


async def search(cli: Cli) -> dict[str, Any]:
    found = await cli.account.messages.search(
        cli.args.text, group=cli.args.group, limit=cli.args.limit
    )
    return {"results": _j(found)}


# --- sync ----------------------------------------------------------------------------------


async def sync(cli: Cli) -> dict[str, Any]:
    return {"sync": _j(await cli.account.sync(cli.args.sync_timeout))}


COMMANDS: dict[tuple[str, str | None], Command] = {
    ("account", "create"): Command(account_create, Needs.NONE),
    ("account", "import"): Command(account_import, Needs.NONE),
    ("account", "connect"): Command(account_connect, Needs.NONE),
    ("account", "show"): Command(account_show, Needs.ACCOUNT),
    ("account", "export-nsec"): Command(account_export, Needs.ACCOUNT),
    ("account", "export-ncryptsec"): Command(account_export_ncryptsec, Needs.ACCOUNT),
    ("account", "list"): Command(account_list, Needs.NONE),
    ("account", "profile"): Command(account_profile, Needs.NETWORK),
    ("account", "passphrase"): Command(account_passphrase, Needs.ACCOUNT),
    ("account", "delete"): Command(account_delete, Needs.ACCOUNT),
    ("relays", "set"): Command(relays_set, Needs.NETWORK),
    ("relays", "add"): Command(relays_add, Needs.NETWORK),
    ("relays", "remove"): Command(relays_remove, Needs.NETWORK),
    ("relays", "list"): Command(relays_list, Needs.ACCOUNT),
    ("keypackage", "publish"): Command(keypackage_publish, Needs.NETWORK),
    ("keypackage", "list"): Command(keypackage_list, Needs.ACCOUNT),
    ("contacts", "add"): Command(contacts_add, Needs.NETWORK),
    ("contacts", "list"): Command(contacts_list, Needs.ACCOUNT),
    ("contacts", "picture"): Command(contacts_picture, Needs.NETWORK),
    ("contacts", "block"): Command(contacts_block, Needs.ACCOUNT),
    ("contacts", "unblock"): Command(contacts_unblock, Needs.ACCOUNT),
    ("devices", "list"): Command(devices_list, Needs.NETWORK),
    ("devices", "remove"): Command(devices_remove, Needs.NETWORK),
    ("group", "create"): Command(group_create, Needs.NETWORK),
    ("group", "list"): Command(group_list, Needs.ACCOUNT),
    ("group", "show"): Command(group_show, Needs.ACCOUNT),
    ("group", "add"): Command(group_add, Needs.NETWORK),
    ("group", "remove"): Command(group_remove, Needs.NETWORK),
    ("group", "promote"): Command(group_promote, Needs.NETWORK),
    ("group", "demote"): Command(group_demote, Needs.NETWORK),
    ("group", "rename"): Command(group_rename, Needs.NETWORK),
    ("group", "disappearing"): Command(group_disappearing, Needs.NETWORK),
    ("group", "describe"): Command(group_describe, Needs.NETWORK),
    ("group", "leave"): Command(group_leave, Needs.NETWORK),
    ("group", "self-update"): Command(group_self_update, Needs.NETWORK),
    ("invites", "list"): Command(invites_list, Needs.ACCOUNT),
    ("invites", "accept"): Command(invites_accept, Needs.NETWORK),
    ("invites", "decline"): Command(invites_decline, Needs.NETWORK),
    ("send", None): Command(send, Needs.NETWORK),
    ("react", None): Command(react, Needs.NETWORK),
    ("delete", None): Command(delete, Needs.NETWORK),
    ("retry", None): Command(retry, Needs.NETWORK),
    ("messages", None): Command(messages_cli.listing, Needs.ACCOUNT),
    ("messages", "edit"): Command(messages_cli.edit, Needs.NETWORK),
    ("read", None): Command(mark_read, Needs.ACCOUNT),
    ("search", None): Command(search, Needs.ACCOUNT),
    ("sync", None): Command(sync, Needs.ACCOUNT),
    ("group", "picture"): Command(media_cli.group_picture, Needs.NETWORK),
    ("media", "get"): Command(media_cli.get, Needs.NETWORK),
    ("media", "servers"): Command(media_cli.servers, Needs.NETWORK),
    ("media", "uploads"): Command(media_cli.uploads, Needs.ACCOUNT),
    ("media", "cancel"): Command(media_cli.cancel, Needs.ACCOUNT),
    ("media", "retry"): Command(media_cli.retry, Needs.NETWORK),
    ("push", "register"): Command(push_cli.register, Needs.NETWORK),
    ("push", "show"): Command(push_cli.show, Needs.ACCOUNT),
    ("push", "remove"): Command(push_cli.remove, Needs.NETWORK),
}
