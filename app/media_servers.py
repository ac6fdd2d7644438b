"""Where an account's attachments are stored: its Blossom server list (kind 10063, BUD-03).

Our list is kept in the encrypted settings and published as a replaceable kind 10063 to our
relays and the discovery relays; a newer copy found there (set on another device) replaces
it. Until the user chooses one, the configured default applies (``BURROW_BLOSSOM``, else the
embedded local Blossom store when the embedded relay is on). Other people's lists are read
on demand: a message's blob may also be on its sender's servers (BUD-01 fallback).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.context import Context
from app.errors import InvalidInput
from app.relays import Relays
from nostr.blossom import normalize_server_url, parse_server_list, server_list_event
from nostr.errors import DecodeError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from storage.repos import accounts as accounts_repo

SETTING = "blossom_servers"
"""``{"servers": [...], "created_at": N}``: our list as last set or adopted."""
PURPOSE = "blossom_servers"


class MediaServers:
    def __init__(self, ctx: Context, relays: Relays) -> None:
        self._ctx = ctx
        self._relays = relays
        self._others: dict[str, tuple[str, ...]] = {}

    def default(self) -> tuple[str, ...]:
        config = self._ctx.config
        if config.blossom_servers:
            return config.blossom_servers
        return (config.local_blossom,) if config.embedded_blossom else ()

    async def _stored(self) -> dict[str, Any] | None:
        value = await self._ctx.db.run(accounts_repo.get_setting, SETTING, None)
        return value if isinstance(value, dict) else None

    async def mine(self) -> tuple[str, ...]:
        """Our servers, most preferred first (the default until one is chosen)."""
        stored = await self._stored()
        if stored is None:
            return self.default()
        return tuple(str(s) for s in stored.get("servers", ()))

    async def chosen(self) -> bool:
        return await self._stored() is not None

    async def set(self, urls: Iterable[str]) -> tuple[str, ...]:
        """Replace our list and publish it (kind 10063)."""
        try:
            servers = tuple(dict.fromkeys(normalize_server_url(u.strip()) for u in urls))
        except DecodeError as exc:
            raise InvalidInput(str(exc)) from None
        ctx = self._ctx
        stored = await self._stored()
        created_at = max(ctx.now(), int(stored.get("created_at", 0)) + 1 if stored else 0)
        event = await ctx.prepare(server_list_event(ctx.pubkey, servers, created_at=created_at))
        await self._save(servers, created_at)
        await ctx.enqueue(event, self._relays.lookup, PURPOSE)
        return servers

    async def _save(self, servers: tuple[str, ...], created_at: int) -> None:
        value = {"servers": list(servers), "created_at": created_at}
        await self._ctx.db.run(accounts_repo.set_setting, SETTING, value)

    async def refresh(self) -> tuple[str, ...]:
        """Adopt our newest kind 10063 from the relays when it is newer than ours."""
        newest = await self._newest(self._ctx.pubkey)
        stored = await self._stored()
        if newest is not None and (stored is None or newest.created_at > stored["created_at"]):
            await self._save(parse_server_list(newest), newest.created_at)
        return await self.mine()

    async def of(self, pubkey: str) -> tuple[str, ...]:
        """Someone's servers (their newest 10063; empty when none is found)."""
        if pubkey == self._ctx.pubkey:
            return await self.mine()
        if pubkey not in self._others:
            event = await self._newest(pubkey)
            self._others[pubkey] = () if event is None else parse_server_list(event)
        return self._others[pubkey]

    async def _newest(self, pubkey: str) -> Event | None:
        found = await self._relays.fetch(
            [Filter(authors=[pubkey], kinds=[int(Kind.BLOSSOM_SERVERS)])], self._relays.lookup
        )
        ours = [e for e in found if e.pubkey == pubkey and e.kind == Kind.BLOSSOM_SERVERS]
        return max(ours, key=lambda e: e.created_at, default=None)
