"""A test-side Profile B client over the real relay, built on ``marmot.profile_b`` alone.

No app, no storage: one account, one relay pool, its KeyPackage bundles and the branch
tree of each group it is in. Enough to prove our pure core against another Profile B
implementation (``tests/oracle``) and against itself (``tests/integration``)::

    async with ProfileBPeer(secret, relay.url) as alice:
        await alice.publish_relay_lists()
        kp = await alice.publish_key_package(form=ProofForm.DRAFT)
        [candidate] = await alice.key_packages(bob_hex)
        group = await alice.create_group("name", [candidate])
        await alice.send(group, "hello")
        texts = await alice.receive(group)         # fetch, process, converge
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from types import TracebackType

from marmot.profile_b.branches import BranchNode, BranchTree, CommitMeta
from marmot.profile_b.components import ComponentId, GroupProfile
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import (
    GroupSettings,
    commit_priority,
    create_group_b,
    group_view,
    invite_b,
    member_accounts,
    remove_b,
    update_components_b,
)
from marmot.profile_b.inbound import (
    AppReceived,
    CommitAdded,
    NotYet,
    Outcome,
    join_b,
    receive_group_event,
)
from marmot.profile_b.key_package import ProofForm, create_key_package_b
from marmot.profile_b.key_package_event import (
    ParsedKeyPackageEvent,
    key_package_event,
    select_key_packages_b,
)
from marmot.profile_b.outbound import handshake_event, send_app_payload, welcome_wraps
from marmot.profile_b.payloads import PayloadKind
from marmot.profile_b.transport import ParsedWelcomeRumor, parse_welcome_rumor_b
from mls.group import GroupState, PendingCommit
from mls.key_package import KeyPackageBundle
from nostr import nip59
from nostr.backoff import Backoff
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import PublicKey, SecretKey
from nostr.relay import PoolOptions, RelayPool

FAST = PoolOptions(reconnect=Backoff(base=0.05, cap=0.5), publish_timeout=10)


@dataclass
class PeerGroup:
    """One group of the peer: its routing id (the ``h`` tag) and branch tree."""

    nostr_group_id: bytes
    tree: BranchTree[UnsignedEvent]
    seen: set[str] = field(default_factory=set)
    received: list[UnsignedEvent] = field(default_factory=list)

    @property
    def state(self) -> GroupState:
        return self.tree.canonical.state

    @property
    def hex_id(self) -> str:
        return self.nostr_group_id.hex()

    @property
    def name(self) -> str:
        return group_view(self.state).profile.name

    @property
    def members(self) -> list[str]:
        return sorted(a.hex() for a in member_accounts(self.state))


class ProfileBPeer:
    def __init__(self, secret: SecretKey, relay_url: str, *, seed: int = 16) -> None:
        self.secret = secret
        self.relay_url = relay_url
        self.pool = RelayPool(options=FAST)
        self.rng = random.Random(seed).randbytes
        self.bundles: dict[str, KeyPackageBundle] = {}  # by 30443 event id
        self.groups: dict[str, PeerGroup] = {}

    @property
    def pubkey(self) -> PublicKey:
        return self.secret.public_key()

    @property
    def hex(self) -> str:
        return self.pubkey.hex

    async def __aenter__(self) -> ProfileBPeer:
        await self.pool.__aenter__()
        await self.pool.add_relay(self.relay_url)
        assert await self.pool.wait_connected(timeout=5)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.pool.__aexit__(t, e, tb)

    async def publish(self, event: Event) -> None:
        result = await self.pool.publish(event)
        assert result.success, result

    def _sign(self, kind: int, content: str, tags: tuple[tuple[str, ...], ...]) -> Event:
        unsigned = UnsignedEvent.create(self.pubkey, int(time.time()), kind, content, tags)
        return unsigned.sign(self.secret, rng=self.rng)

    async def publish_relay_lists(self) -> None:
        """NIP-65 (where our KeyPackages are) and the 10050 inbox (where welcomes reach us)."""
        await self.publish(self._sign(10002, "", (("r", self.relay_url),)))
        await self.publish(self._sign(10050, "", (("relay", self.relay_url),)))

    async def publish_key_package(self, *, form: ProofForm = ProofForm.CURRENT) -> Event:
        now = int(time.time())
        bundle = create_key_package_b(self.secret, now=now, rng=self.rng, form=form)
        unsigned = key_package_event(bundle.key_package, self.pubkey, created_at=now, rng=self.rng)
        event = unsigned.sign(self.secret, rng=self.rng)
        await self.publish(event)
        self.bundles[event.id] = bundle
        return event

    async def key_packages(self, author: str) -> list[ParsedKeyPackageEvent]:
        found = await self.pool.fetch([Filter(kinds={30443}, authors={author})])
        return select_key_packages_b(found, now=int(time.time()))

    # -- groups we make

    async def create_group(
        self,
        name: str,
        invitees: list[ParsedKeyPackageEvent],
        *,
        description: str = "",
        admins: tuple[str, ...] = (),
    ) -> PeerGroup:
        now = int(time.time())
        nostr_group_id = self.rng(32)
        more = tuple(bytes.fromhex(a) for a in admins)
        settings = GroupSettings(name, description, more, nostr_group_id, (self.relay_url,))
        founding = create_group_b(
            self.secret, settings, [c.key_package for c in invitees], now=now, rng=self.rng
        )
        group = PeerGroup(nostr_group_id, BranchTree(founding.state))
        self.groups[group.hex_id] = group
        if founding.pending is not None:
            # the founding commit goes to nobody (the creator is alone at epoch 0)
            await self._welcome(group, founding.pending, invitees)
        return group

    async def _welcome(
        self, group: PeerGroup, pending: PendingCommit, invitees: list[ParsedKeyPackageEvent]
    ) -> None:
        now = int(time.time())
        targets = [(c.author, c.event_id) for c in invitees]
        wraps = welcome_wraps(self.secret, pending, targets, now=now, rng=self.rng)
        group.tree = BranchTree(pending.next_state)
        for wrap in wraps:
            await self.publish(wrap)

    def prepare(self, group: PeerGroup, pending: PendingCommit) -> Event:
        """The 445 of our commit made at the tip; publish it, then ``adopt``."""
        now = int(time.time())
        event = handshake_event(group.state, pending.message, created_at=now, rng=self.rng)
        group.seen.add(event.id)
        return event

    def adopt(
        self, group: PeerGroup, base: BranchNode[UnsignedEvent], pending: PendingCommit
    ) -> None:
        """Our published commit joins the tree as a child of the node it was made at (the
        tip, unless a competing commit came first: convergence decides)."""
        digest = commit_digest(pending.message.to_bytes())
        meta = CommitMeta(self.pubkey.data, commit_priority(pending.summary), digest)
        group.tree.add_commit(base, pending.next_state, meta)
        group.tree.converge()

    async def _commit(self, group: PeerGroup, pending: PendingCommit) -> None:
        """Publish, then adopt (publish before apply)."""
        base = group.tree.canonical
        await self.publish(self.prepare(group, pending))
        self.adopt(group, base, pending)

    async def invite(self, group: PeerGroup, invitees: list[ParsedKeyPackageEvent]) -> None:
        now = int(time.time())
        pending = invite_b(group.state, [c.key_package for c in invitees], now=now, rng=self.rng)
        await self._commit(group, pending)
        await self._welcome_after(group, pending, invitees)

    async def _welcome_after(
        self, group: PeerGroup, pending: PendingCommit, invitees: list[ParsedKeyPackageEvent]
    ) -> None:
        now = int(time.time())
        targets = [(c.author, c.event_id) for c in invitees]
        for wrap in welcome_wraps(self.secret, pending, targets, now=now, rng=self.rng):
            await self.publish(wrap)

    async def remove(self, group: PeerGroup, accounts: list[str]) -> None:
        pending = remove_b(group.state, [bytes.fromhex(a) for a in accounts], rng=self.rng)
        await self._commit(group, pending)

    def rename_commit(self, group: PeerGroup, name: str) -> PendingCommit:
        profile = group_view(group.state).profile
        data = GroupProfile(name, profile.description).encode()
        return update_components_b(group.state, {ComponentId.GROUP_PROFILE: data}, rng=self.rng)

    async def rename(self, group: PeerGroup, name: str) -> None:
        await self._commit(group, self.rename_commit(group, name))

    # -- groups we join

    async def welcomes(self) -> list[ParsedWelcomeRumor]:
        wraps = await self.pool.fetch([Filter(kinds={1059}, tags={"p": {self.hex}})])
        return [parse_welcome_rumor_b(nip59.unwrap(w, self.secret).rumor) for w in wraps]

    def join(self, rumor: ParsedWelcomeRumor) -> PeerGroup:
        bundle = self.bundles[rumor.key_package_event_id]
        state = join_b(rumor, bundle)
        routing = group_view(state).routing
        assert routing is not None
        group = PeerGroup(routing.nostr_group_id, BranchTree(state))
        self.groups[group.hex_id] = group
        return group

    # -- messages

    async def send(self, group: PeerGroup, text: str) -> UnsignedEvent:
        chat = UnsignedEvent.create(self.pubkey, int(time.time()), PayloadKind.CHAT, text)
        event, group.tree.canonical.state = send_app_payload(group.state, chat, rng=self.rng)
        await self.publish(event)
        group.seen.add(event.id)
        return chat

    async def receive(self, group: PeerGroup) -> list[Outcome]:
        """Fetch the group's 445s, process the new ones (oldest first, retrying what
        waited), converge; the outcomes of this round."""
        events = await self.pool.fetch([Filter(kinds={445}, tags={"h": {group.hex_id}})])
        fresh = sorted((e for e in events if e.id not in group.seen), key=lambda e: e.created_at)
        outcomes: list[Outcome] = []
        for _ in range(3):  # a commit can arrive ahead of what it names
            waiting = []
            for event in fresh:
                outcome = receive_group_event(group.tree, event, now=int(time.time()))
                if isinstance(outcome, NotYet):
                    waiting.append(event)
                    continue
                group.seen.add(event.id)
                outcomes.append(outcome)
                if isinstance(outcome, AppReceived):
                    group.received.append(outcome.payload)
            group.tree.converge()
            fresh = waiting
        return outcomes

    def texts(self, group: PeerGroup) -> list[tuple[str, str]]:
        return [(p.pubkey, p.content) for p in group.received if p.kind == PayloadKind.CHAT]


def adopted_commits(outcomes: list[Outcome]) -> int:
    return sum(isinstance(o, CommitAdded) and o.adopted for o in outcomes)
