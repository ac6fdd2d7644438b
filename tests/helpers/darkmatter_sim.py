"""A scenario executor for MDK's conformance vectors, over our Profile B implementation.

MDK's ``cgka-conformance-simulator`` vectors are implementation-neutral: clients, a list
of steps (create a group, acknowledge a publication, deliver, tick, send, observe ...)
and expected outcomes. This module runs those steps against Burrow's own code: every
client mints real Profile B KeyPackages (30443 events, 0x8009 proofs), groups are
``marmot.profile_b.group`` groups over ``mls``, group traffic travels as signed 445 events
(``marmot.profile_b.transport``), welcomes as gift-wrapped 444 rumors, app messages as
kind 9 payloads, and forks are settled by ``marmot.profile_b.convergence``.

What is ours to decide (the vectors do not pin it) is written where it is decided. The
bus is in memory and deterministic: ``deliver_all`` hands every published, non-withheld
object to every other client allowed by the partition, in publication order.

A step or outcome type this executor does not implement raises :class:`Unsupported`, so
a vector cannot pass by skipping what it asks for.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marmot.errors import MarmotError, PolicyViolation
from marmot.profile_b.branches import BranchNode, BranchTree, CommitMeta, Reorg
from marmot.profile_b.components import AdminPolicy, ComponentId, GroupProfile
from marmot.profile_b.convergence import Selection, commit_digest
from marmot.profile_b.errors import InvalidComponent
from marmot.profile_b.group import (
    GroupSettings,
    commit_priority,
    create_group_b,
    group_view,
    invite_b,
    remove_b,
    update_components_b,
)
from marmot.profile_b.inbound import (
    AppReceived,
    CommitAdded,
    NotYet,
    departure_commit,
    join_b,
    receive_group_event,
)
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event, parse_key_package_event_b
from marmot.profile_b.outbound import handshake_event, send_app_payload, welcome_wraps
from marmot.profile_b.payloads import PayloadKind, encode_app_event
from marmot.profile_b.transport import (
    parse_welcome_rumor_b,
)
from mls.errors import MlsError
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupState,
    PendingCommit,
    process,
    propose_self_remove,
    protect,
)
from mls.key_package import KeyPackageBundle
from mls.messages import MLSMessage
from mls.snapshot import dump_group, load_group
from nostr import nip59
from nostr.errors import NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey

NOW = 1_788_718_800
RELAYS = ("wss://group.example",)


class Unsupported(Exception):
    """A step, selector or outcome this executor does not implement (yet)."""


class ScenarioFailure(AssertionError):
    """An expected outcome that did not hold."""


def account_secret(label: str) -> SecretKey:
    """The deterministic account key the reference gives a scenario label: the first
    valid SHA-256("marmot-cgka-conformance-nostr-key-v1" || label padded to 32 || counter),
    so committer order (a convergence rule) is the same as in the reference run."""
    seed = label.encode()[:32].ljust(32, b"\x00")
    counter = 0
    while True:
        digest = hashlib.sha256(
            b"marmot-cgka-conformance-nostr-key-v1" + seed + counter.to_bytes(8, "big")
        ).digest()
        try:
            return SecretKey(digest)
        except NostrError:
            counter += 1


# --- the branch tree of one client's group -----------------------------------------------


Delivery = UnsignedEvent  # what a node delivered: the app payload
Node = BranchNode[Delivery]


@dataclass
class GroupTrack:
    """A client's view of one group: the branch tree and what it showed."""

    tree: BranchTree[Delivery]
    received: list[tuple[Node, int, str]] = field(default_factory=list)  # (node, receipt, payload)
    counts: dict[str, int] = field(default_factory=dict)
    added: list[bytes] = field(default_factory=list)
    removed: list[bytes] = field(default_factory=list)
    epoch_changes: list[dict[str, int]] = field(default_factory=list)
    decisions: list[Selection] = field(default_factory=list)

    @property
    def root(self) -> Node:
        return self.tree.root

    @property
    def canonical(self) -> Node:
        return self.tree.canonical

    def clear(self) -> None:
        """Drain the events window (what ``observe`` and ``clear_events`` do)."""
        self.received.clear()
        self.counts.clear()
        self.epoch_changes.clear()
        self.added.clear()
        self.removed.clear()

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


# --- the bus -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Item:
    seq: int
    sender: str
    klass: str  # commit | proposal | application | welcome
    publication: str | None
    event: Event
    to: str | None = None  # welcome recipient
    published: bool = False
    withheld: str | None = None
    omitted: bool = False
    hidden_from: set[str] = field(default_factory=set)  # relay visibility per client
    passed: set[str] = field(default_factory=set)  # clients whose cursor went past it hidden
    delivered_to: set[str] = field(default_factory=set)


def _matches(item: Item, selector: dict[str, Any]) -> bool:
    known = {"publication", "class", "sender", "occurrence"}
    if set(selector) - known:
        raise Unsupported(f"selector fields {sorted(set(selector) - known)}")
    if "publication" in selector and item.publication != selector["publication"]:
        return False
    if "class" in selector and item.klass != selector["class"]:
        return False
    return "sender" not in selector or item.sender == selector["sender"]


# --- clients -----------------------------------------------------------------------------------


@dataclass
class Pending:
    label: str
    kind: str
    base: Node | None  # None for a founding commit (epoch 0 state in ``founding``)
    commit: PendingCommit
    founding: GroupState | None
    welcome_to: list[tuple[str, str]]  # (client, KeyPackage event id)
    group: str
    client: str


class Client:
    def __init__(self, sim: Simulation, label: str, identity_label: str) -> None:
        self.sim = sim
        self.label = label
        self.secret = account_secret(identity_label)
        self.account = self.secret.public_key().data
        self.rng = random.Random(f"burrow-dm-{label}").randbytes
        self.bundles: dict[str, KeyPackageBundle] = {}  # KeyPackage event id -> bundle
        self.groups: dict[str, GroupTrack] = {}
        self.inbox: list[Item] = []
        self.receipts = 0  # orders received payloads across the client's groups
        self.receipt_of: dict[int, int] = {}  # id(payload) -> receipt

    # key packages, as published 30443 events and read back through our parser
    def key_package_event(self) -> tuple[str, Event]:
        bundle = create_key_package_b(self.secret, now=NOW, rng=self.rng)
        event = key_package_event(
            bundle.key_package, self.secret.public_key(), created_at=NOW, rng=self.rng
        ).sign(self.secret, rng=self.rng)
        self.bundles[event.id] = bundle
        return event.id, event

    def track(self, group: str) -> GroupTrack:
        if group not in self.groups:
            raise ScenarioFailure(f"{self.label} is not in group {group}")
        return self.groups[group]

    # ------------------------------------------------------------------- inbound
    def tick(self) -> None:
        progressed = True
        touched: set[str] = set()
        while progressed:
            progressed = False
            for item in list(self.inbox):
                outcome = self._handle(item)
                if outcome is None:
                    continue  # not decryptable yet: stays queued
                self.inbox.remove(item)
                progressed = True
                if outcome:
                    touched.add(outcome)
        for group in sorted(touched):
            self._converge(self.groups[group])
        for group, track in self.groups.items():
            self._commit_departures(group, track)

    def _commit_departures(self, group: str, track: GroupTrack) -> None:
        """A member's SelfRemove waiting at our tip: commit it, as an outbound awaiting
        its acknowledgement (no step names it)."""
        label = f"auto:{self.label}:{group}:{track.canonical.epoch}"
        if label in self.sim.pending:
            return
        pending = departure_commit(track.canonical.state, rng=self.rng)
        if pending is not None:
            self.sim.pending[label] = Pending(
                label, "departure", track.canonical, pending, None, [], group, self.label
            )

    def _handle(self, item: Item) -> str | None:
        """'' when handled with nothing to converge, the group label when a commit or a
        witness changed a tree, None to keep the item queued."""
        if item.klass == "welcome":
            return self._join(item)
        for label, track in self.groups.items():
            outcome = receive_group_event(track.tree, item.event, now=NOW)
            if isinstance(outcome, NotYet):
                continue
            if isinstance(outcome, AppReceived):
                # a witness can change a branch's score: converge again
                self._shown(track, outcome)
                return label
            if isinstance(outcome, CommitAdded):
                if outcome.adopted:
                    assert outcome.node.parent is not None
                    self._adopted(track, outcome.node.parent, outcome.node, inbound=outcome.summary)
                return label
            return ""
        return None

    def _shown(self, track: GroupTrack, received: AppReceived) -> None:
        if received.payload.kind != PayloadKind.CHAT:
            return
        self.receipts += 1
        self.receipt_of[id(received.payload)] = self.receipts
        if received.canonical:
            track.received.append((received.node, self.receipts, received.payload.content))
            track.count("message_received")

    def _join(self, item: Item) -> str | None:
        if item.to != self.label:
            return ""
        try:
            gift = nip59.unwrap(item.event, self.secret)
            rumor = parse_welcome_rumor_b(gift.rumor)
        except (NostrError, MarmotError):
            return ""
        bundle = self.bundles.get(rumor.key_package_event_id)
        group = self.sim.welcome_groups[item.seq]
        if bundle is None:
            return ""
        if group in self.groups and self.groups[group].canonical.state.active:
            return ""  # already a member: a second welcome changes nothing
        try:
            state = join_b(rumor, bundle)
        except (MlsError, MarmotError):
            return ""
        self.groups[group] = GroupTrack(BranchTree(state))
        return ""

    # ------------------------------------------------------------- convergence
    def _adopted(
        self, track: GroupTrack, old: Node, node: Node, *, inbound: CommitProcessed | None
    ) -> None:
        """Bookkeeping for ``node`` (a child of ``old``) having become canonical. Epoch
        changes are reported for commits of others only, as the reference reports them."""
        if node.meta is not None and node.meta.committer != self.account:
            track.epoch_changes.append({"from": old.epoch, "to": node.epoch})
        if inbound is not None:
            track.count("epoch_changed")
            track.count("member_added", len(inbound.adds))
            track.count("member_removed", len(inbound.removes))
            track.added += [a.key_package.leaf_node.credential.identity for a in inbound.adds]
            track.removed += [r.leaf_node.credential.identity for r in inbound.removes]

    def _converge(self, track: GroupTrack) -> None:
        outcome = track.tree.converge()
        if outcome.selection is not None:
            track.decisions.append(outcome.selection)
        if outcome.reorg is not None:
            self._reorged(track, outcome.reorg)
        track.tree.prune()

    def _reorged(self, track: GroupTrack, reorg: Reorg[Delivery]) -> None:
        """The event window after a move: payloads of the losing side withdrawn, those of
        the winning side shown; the winner's commits (of others) replayed from the fork."""
        on_path = {id(n) for n in reorg.new.path()}
        kept = [r for r in track.received if id(r[0]) in on_path]
        track.count("app_invalidated", len(track.received) - len(kept))
        have = {receipt for _, receipt, _ in kept}
        for node in reorg.replayed:
            for payload in node.deliveries:
                receipt = self.receipt_of.get(id(payload))
                if receipt is not None and receipt not in have:
                    kept.append((node, receipt, payload.content))
        track.received = kept
        for node in reorg.replayed:
            if node.meta is not None and node.meta.committer != self.account:
                track.epoch_changes.append({"from": node.epoch - 1, "to": node.epoch})

    # ------------------------------------------------------------- outbound
    def send(self, klass: str, node: Node, message: MLSMessage, publication: str | None) -> Item:
        """A commit or proposal made at ``node``, onto the bus as a 445."""
        event = handshake_event(node.state, message, created_at=NOW, rng=self.rng)
        return self.sim.bus_add(self.label, klass, publication, event)


class Simulation:
    def __init__(
        self, vector: dict[str, Any], *, shuffle: int | None = None, twice: bool = False
    ) -> None:
        """``shuffle``: a seed to deliver each batch to each client in a random order
        (arrival order must not choose group state); ``twice``: every delivery arrives a
        second time (relays redeliver; a copy must change nothing)."""
        self.vector = vector
        self.twice = twice
        self.shuffle = None if shuffle is None else random.Random(shuffle)
        scenario = vector.get("scenario") or vector["case"]["scenario"]
        self.scenario = scenario
        identities = _identity_labels(scenario)
        self.clients = {c: Client(self, c, identities[c]) for c in scenario["clients"]}
        self.by_account = {c.account: name for name, c in self.clients.items()}
        self.items: list[Item] = []
        self.pending: dict[str, Pending] = {}
        self.resolutions: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.observations: dict[str, dict[str, Any]] = {}
        self.admin_observations: dict[str, list[str]] = {}
        self.welcome_groups: dict[int, str] = {}
        self.partition: set[str] | None = None
        self.active_group = "default"
        profile = vector.get("application_profile", {}).get("name")
        self.founding_is_canonical = profile == "current"
        self.assert_failures: list[str] = []
        self.probes: dict[frozenset[str], bool] = {}

    # the bus
    def bus_add(
        self, sender: str, klass: str, publication: str | None, event: Event, to: str | None = None
    ) -> Item:
        item = Item(len(self.items), sender, klass, publication, event, to)
        item.published = klass == "application"  # group state waits for the ack
        self.items.append(item)
        return item

    def deliver_all(self, clients: list[str] | None = None, *, full_history: bool = False) -> None:
        """Hand out what is published. A relay-hidden object is passed over (an
        incremental query's cursor moves past it); only a full-history query brings a
        passed-over object once it is visible again."""
        for item in self.items:
            if not item.published or item.withheld or item.omitted:
                continue
            for name, client in self.clients.items():
                if clients is not None and name not in clients:
                    continue
                if name == item.sender or name in item.delivered_to:
                    continue
                if name in item.hidden_from:
                    item.passed.add(name)
                    continue
                if name in item.passed and not full_history:
                    continue
                if self.partition is not None and not {name, item.sender} <= self.partition:
                    item.delivered_to.add(name)  # a partition loses traffic, it does not delay it
                    continue
                if item.to is not None and item.to != name:
                    continue
                item.delivered_to.add(name)
                client.inbox.extend([item, item] if self.twice else [item])
        if self.shuffle is not None:
            for client in self.clients.values():
                self.shuffle.shuffle(client.inbox)

    def select(self, selector: dict[str, Any]) -> list[Item]:
        found = [i for i in self.items if _matches(i, selector)]
        if "occurrence" in selector:
            n = selector["occurrence"]
            found = found[n : n + 1] if isinstance(n, int) else []
        return found

    # running
    def run(self) -> None:
        steps = self.scenario["steps"]
        for index, step in enumerate(steps):
            self.step(index, step)

    def step(self, index: int, step: dict[str, Any]) -> None:
        handler: Callable[[int, dict[str, Any]], None] | None = getattr(
            self, f"do_{step['type']}", None
        )
        if handler is None:
            raise Unsupported(f"step {step['type']}")
        handler(index, step)

    def _admins_default(self, index: int, step: dict[str, Any]) -> list[str]:
        if step.get("initial_admins") is not None:
            return list(step["initial_admins"])
        gated = {"invite_members": "inviter", "update_group_data": "client"}
        gated |= {"update_group_profile": "client", "update_admin_policy": "client"}
        actors = {
            s[gated[s["type"]]] for s in self.scenario["steps"][index + 1 :] if s["type"] in gated
        }
        return [i for i in step["invitees"] if i in actors]

    def do_create_group(self, index: int, step: dict[str, Any]) -> None:
        if step.get("required_features"):
            raise Unsupported("required_features")
        creator = self.clients[step["creator"]]
        kps = {name: self.clients[name].key_package_event() for name in step["invitees"]}
        parsed = {n: parse_key_package_event_b(e, now=NOW) for n, (_, e) in kps.items()}
        admins = tuple(self.clients[a].account for a in self._admins_default(index, step))
        gid = hashlib.sha256(b"burrow-dm-group" + step["name"].encode()).digest()
        settings = GroupSettings(step["name"], "", admins, gid, RELAYS)
        founding = create_group_b(
            creator.secret,
            settings,
            [p.key_package for p in parsed.values()],
            now=NOW,
            rng=creator.rng,
        )
        group = self.active_group
        if founding.pending is None:
            creator.groups[group] = GroupTrack(BranchTree(founding.state))
            return
        welcome_to = [(n, kps[n][0]) for n in step["invitees"]]
        creator.groups[group] = GroupTrack(BranchTree(founding.state))
        if self.founding_is_canonical:
            # the current profile: the founding commit is adopted at once, never published
            pending = Pending(
                step["pending"],
                "create",
                None,
                founding.pending,
                founding.state,
                welcome_to,
                group,
                creator.label,
            )
            self._confirm(creator, pending)
            return
        self.pending[step["pending"]] = Pending(
            step["pending"],
            "create",
            None,
            founding.pending,
            founding.state,
            welcome_to,
            group,
            creator.label,
        )

    def _own_commit(
        self,
        step: dict[str, Any],
        client: Client,
        kind: str,
        make: Callable[[GroupState], PendingCommit],
        *,
        welcome_to: list[tuple[str, str]] | None = None,
    ) -> None:
        track = client.track(self.active_group)
        base = track.canonical
        commit = make(base.state)
        self.pending[step["pending"]] = Pending(
            step["pending"],
            kind,
            base,
            commit,
            None,
            welcome_to or [],
            self.active_group,
            client.label,
        )

    def do_invite_members(self, index: int, step: dict[str, Any]) -> None:
        inviter = self.clients[step["inviter"]]
        kps = {name: self.clients[name].key_package_event() for name in step["invitees"]}
        parsed = [parse_key_package_event_b(e, now=NOW).key_package for _, e in kps.values()]
        self._own_commit(
            step,
            inviter,
            "invite",
            lambda s: invite_b(s, parsed, now=NOW, rng=inviter.rng),
            welcome_to=[(n, kps[n][0]) for n in step["invitees"]],
        )

    def do_update_group_data(self, index: int, step: dict[str, Any]) -> None:
        self._update_profile(index, step, {"name": step["name"]})

    def do_update_group_profile(self, index: int, step: dict[str, Any]) -> None:
        fields: dict[str, str] = {k: step[k] for k in ("name", "description") if k in step}
        if not fields:
            raise Unsupported("a profile update without fields")
        self._update_profile(index, step, fields)

    def _update_profile(self, index: int, step: dict[str, Any], fields: dict[str, str]) -> None:
        client = self.clients[step["client"]]

        def make(state: GroupState) -> PendingCommit:
            old = group_view(state).profile
            new = GroupProfile(
                fields.get("name", old.name), fields.get("description", old.description)
            )
            return update_components_b(
                state, {ComponentId.GROUP_PROFILE: new.encode()}, rng=client.rng
            )

        self._own_commit(step, client, "profile", make)

    def _admin_update(
        self, client: Client, names: list[str]
    ) -> Callable[[GroupState], PendingCommit]:
        def make(state: GroupState) -> PendingCommit:
            policy = AdminPolicy.of([self.clients[n].account for n in names])
            return update_components_b(
                state, {ComponentId.ADMIN_POLICY: policy.encode()}, rng=client.rng
            )

        return make

    def do_update_admin_policy(self, index: int, step: dict[str, Any]) -> None:
        client = self.clients[step["client"]]
        self._own_commit(step, client, "admins", self._admin_update(client, step["admins"]))

    def do_expect_update_admin_policy_error(self, index: int, step: dict[str, Any]) -> None:
        client = self.clients[step["client"]]
        state = client.track(self.active_group).canonical.state
        try:
            self._admin_update(client, step["admins"])(state)
        except PolicyViolation:
            error = "not_group_admin"
        except InvalidComponent:
            error = "admin_policy"
        else:
            raise ScenarioFailure(f"step {index}: the admin update was not refused")
        self.errors.append(
            {
                "step_index": index,
                "client": step["client"],
                "operation": "update_admin_policy",
                "error": error,
            }
        )

    def do_remove_members(self, index: int, step: dict[str, Any]) -> None:
        remover = self.clients[step["remover"]]
        accounts = [self.clients[m].account for m in step["members"]]
        self._own_commit(step, remover, "remove", lambda s: remove_b(s, accounts, rng=remover.rng))

    def do_acknowledge_outbound(self, index: int, step: dict[str, Any]) -> None:
        """With a publication: resolve that one (and record it). Without: resolve every
        outstanding outbound of the client, which may be none (the reference acks "all"
        of an empty set without complaint); ours are the automatic departure commits,
        app messages being published as they are sent."""
        if step["outcome"] not in ("accepted", "reached_no_endpoint"):
            raise Unsupported(f"outcome {step['outcome']}")
        client = self.clients[step["client"]]
        accepted = step["outcome"] == "accepted"
        if "publication" not in step:
            for key in [k for k, p in self.pending.items() if p.client == client.label]:
                if key.startswith("auto:"):
                    pending = self.pending.pop(key)
                    if accepted:
                        self._confirm(client, pending)
            return
        pending = self.pending.pop(step["publication"])
        if accepted:
            self._confirm(client, pending)
        self.resolutions.append(
            {
                "step_index": index,
                "client": step["client"],
                "pending": pending.label,
                "resolution": "confirmed" if accepted else "rolled_back",
            }
        )

    def _confirm(self, client: Client, pending: Pending) -> None:
        track = client.track(pending.group)
        commit = pending.commit
        meta = CommitMeta(
            client.account,
            commit_priority(commit.summary),
            commit_digest(commit.message.to_bytes()),
        )
        base = pending.base if pending.base is not None else track.root
        old = track.canonical
        child = track.tree.add_commit(base, commit.next_state, meta)
        if pending.base is not None:
            item = client.send("commit", base, commit.message, pending.label)
            item.published = True
        if track.canonical is child:
            inbound = commit.summary if pending.base is not None else None
            client._adopted(track, old, child, inbound=inbound)
        else:
            client._converge(track)
        if commit.welcome is not None:
            invitees = [
                (self.clients[name].secret.public_key(), kp_event_id)
                for name, kp_event_id in pending.welcome_to
            ]
            wraps = welcome_wraps(client.secret, commit, invitees, now=NOW, rng=client.rng)
            for (name, _), wrap in zip(pending.welcome_to, wraps, strict=True):
                item = self.bus_add(client.label, "welcome", pending.label, wrap, to=name)
                item.published = True
                self.welcome_groups[item.seq] = pending.group

    def do_send_app_message(self, index: int, step: dict[str, Any]) -> None:
        sender = self.clients[step["sender"]]
        track = sender.track(self.active_group)
        node = track.canonical
        rumor = UnsignedEvent.create(
            sender.secret.public_key(), NOW, PayloadKind.CHAT, step["payload"]
        )
        event, node.state = send_app_payload(node.state, rumor, rng=sender.rng)
        track.tree.witness(node, sender.account)
        self.bus_add(sender.label, "application", None, event)

    def do_leave(self, index: int, step: dict[str, Any]) -> None:
        client = self.clients[step["client"]]
        node = client.track(self.active_group).canonical
        if client.account in group_view(node.state).admins:
            raise ScenarioFailure(f"step {index}: an admin cannot leave before handing over")
        message, node.state = propose_self_remove(node.state, rng=client.rng)
        item = client.send("proposal", node, message, None)
        item.published = True

    def do_restart_client(self, index: int, step: dict[str, Any]) -> None:
        """A restart keeps only what would be stored: every retained group state goes
        through our snapshot format (mls.snapshot) and is read back."""
        client = self.clients[step["client"]]
        for track in client.groups.values():
            track.clear()  # the event window is not stored
            for node in track.tree.nodes():
                node.state = load_group(dump_group(node.state))

    def do_await_quiescence(self, index: int, step: dict[str, Any]) -> None:
        """Deliver and tick everyone until a round changes nothing (bounded)."""
        for _ in range(20):
            before = (len(self.items), sum(len(c.inbox) for c in self.clients.values()))
            self.deliver_all()
            for client in self.clients.values():
                client.tick()
            if (len(self.items), sum(len(c.inbox) for c in self.clients.values())) == before:
                return
        raise ScenarioFailure(f"step {index}: no quiescence after 20 rounds")

    def do_set_relay_event_visibility(self, index: int, step: dict[str, Any]) -> None:
        relays = [r["id"] for r in self.scenario.get("topology", {}).get("relays", [])]
        if relays != [step["relay"]]:
            raise Unsupported("relay_topology")  # one retained relay is all we model
        for item in self.select(step["selector"]):
            if step["visible"]:
                item.hidden_from -= set(step["clients"])
            else:
                item.hidden_from |= set(step["clients"])

    def do_sync_relay_history(self, index: int, step: dict[str, Any]) -> None:
        mode = step["sync"]["mode"]
        if mode not in ("incremental", "full_history"):
            raise Unsupported(f"sync_mode_{mode}")
        self.deliver_all(step["clients"], full_history=mode == "full_history")

    def do_deliver_all(self, index: int, step: dict[str, Any]) -> None:
        self.deliver_all()

    def do_tick(self, index: int, step: dict[str, Any]) -> None:
        for name in step["clients"]:
            self.clients[name].tick()

    def do_clear_events(self, index: int, step: dict[str, Any]) -> None:
        for name in step["clients"]:
            for label, track in self.clients[name].groups.items():
                if self.active_group in ("default", label):
                    track.clear()

    def do_observe(self, index: int, step: dict[str, Any]) -> None:
        for name in step["clients"]:
            client = self.clients[name]
            track = client.groups.get(self.active_group)
            if track is None:
                self.observations[name] = {
                    "client": name,
                    "epoch": None,
                    "member_count": 0,
                    "received_payloads": [],
                }
                continue
            state = track.canonical.state
            view = group_view(state)
            received = sorted(
                (r for t in client.groups.values() for r in t.received), key=lambda r: r[1]
            )
            self.observations[name] = {
                "client": name,
                "epoch": state.epoch,
                "member_count": sum(1 for _ in state.members()) if state.active else 0,
                "group_name": view.profile.name,
                "group_description": view.profile.description,
                "received_payloads": [p for _, _, p in received],
                "added": [self.by_account.get(a, a.hex()) for a in track.added],
                "removed": [self.by_account.get(a, a.hex()) for a in track.removed],
                "event_counts": dict(track.counts),
                "decision": track.decisions[-1] if track.decisions else None,
                "epoch_changes": list(track.epoch_changes),
                "exact": (
                    state.epoch,
                    state.epoch_authenticator,
                    state.tree_hash,
                    state.context_bytes,
                ),
                "pending": bool(client.inbox)
                or any(p.client == name for p in self.pending.values()),
            }
            for t in client.groups.values():
                t.clear()

    do_observe_exact = do_observe

    def do_observe_admin_policy(self, index: int, step: dict[str, Any]) -> None:
        for name in step["clients"]:
            state = self.clients[name].track(self.active_group).canonical.state
            self.admin_observations[name] = sorted(
                self.by_account[a] for a in group_view(state).admins
            )

    def do_withhold_message(self, index: int, step: dict[str, Any]) -> None:
        found = [i for i in self.select(step["selector"]) if not i.delivered_to]
        if not found:
            raise ScenarioFailure(f"step {index}: nothing to withhold")
        for item in found:
            item.withheld = step["label"]

    def do_release_withheld(self, index: int, step: dict[str, Any]) -> None:
        for item in self.items:
            if item.withheld == step["label"]:
                item.withheld = None

    def do_omit_message(self, index: int, step: dict[str, Any]) -> None:
        for item in self.select(step["selector"]):
            item.omitted = True

    def do_duplicate_message(self, index: int, step: dict[str, Any]) -> None:
        for item in self.select(step["selector"]):
            copy = Item(
                len(self.items), item.sender, item.klass, item.publication, item.event, item.to
            )
            copy.published = item.published
            self.items.append(copy)
            if item.seq in self.welcome_groups:
                self.welcome_groups[copy.seq] = self.welcome_groups[item.seq]

    def do_reorder_messages(self, index: int, step: dict[str, Any]) -> None:
        """The undelivered items the selectors name go out in the selectors' order."""
        chosen: list[Item] = []
        for selector in step["order"]:
            chosen += [i for i in self.select(selector) if not i.delivered_to and i not in chosen]
        slots = sorted(self.items.index(i) for i in chosen)
        for slot, item in zip(slots, chosen, strict=True):
            self.items[slot] = item

    def do_set_partition(self, index: int, step: dict[str, Any]) -> None:
        self.partition = set(step["allow"])

    def do_clear_partition(self, index: int, step: dict[str, Any]) -> None:
        self.partition = None

    def do_assert(self, index: int, step: dict[str, Any]) -> None:
        assertion = step["assertion"]
        predicate = assertion["predicate"]
        if assertion.get("mode") != "exactly" or predicate.get("type") != "payload_count":
            raise Unsupported(f"assertion {assertion.get('mode')}/{predicate.get('type')}")
        client = self.clients[predicate["client"]]
        # the client's projection: every payload delivered on its canonical branches
        seen = [
            p.content
            for t in client.groups.values()
            for n in t.canonical.path()
            for p in n.deliveries
            if p.kind == PayloadKind.CHAT
        ]
        count = sum(1 for p in seen if p == predicate["payload"])
        if count != predicate["count"]:
            self.assert_failures.append(f"step {index}: {predicate} saw {count}")

    def do_in_group(self, index: int, step: dict[str, Any]) -> None:
        previous, self.active_group = self.active_group, step["group"]
        try:
            self.step(index, step["action"])
        finally:
            self.active_group = previous

    def do_probe_bidirectional_decryptability(self, index: int, step: dict[str, Any]) -> None:
        names = step["clients"]
        ok = True
        for sender in names:
            s = self.clients[sender]
            node = s.track(self.active_group).canonical
            rumor = UnsignedEvent.create(
                s.secret.public_key(), NOW, PayloadKind.CHAT, f"probe:{sender}"
            )
            message, node.state = protect(node.state, encode_app_event(rumor), rng=s.rng)
            for receiver in names:
                if receiver == sender:
                    continue
                rnode = self.clients[receiver].track(self.active_group).canonical
                try:
                    result, _ = process(rnode.state, message, now=NOW)
                except MlsError:
                    ok = False
                    continue
                ok &= isinstance(result, ApplicationMessage) and result.data == encode_app_event(
                    rumor
                )
        self.probes[frozenset(names)] = ok


def _identity_labels(scenario: dict[str, Any]) -> dict[str, str]:
    devices = scenario.get("topology", {}).get("devices")
    if not devices:
        return {c: c for c in scenario["clients"]}
    return {d["client"]: d["account"] for d in devices}
