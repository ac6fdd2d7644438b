"""Storage forms of a Profile B group: its branch tree as rows, the group row's view of the
canonical state, our pending commit as a blob, and system rows as timeline changes.

The tree's nodes are keyed by the hex digest of the commit that made them (`ROOT_KEY` for
the state we joined or founded at): the same key on every member, stable across restarts
and pruning. App payloads are not kept in the nodes; every message row of a Profile B group
names the node it arrived at (``messages.branch``), which is what a reorg needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from app import timeline
from marmot.profile_b.branches import BranchNode, BranchTree, CommitMeta
from marmot.profile_b.changes import Change as SystemChange
from marmot.profile_b.changes import group_changes
from marmot.profile_b.convergence import Priority
from marmot.profile_b.group import GroupView, group_view
from marmot.profile_b.payloads import SystemType
from mls.group import CommitProcessed, GroupState
from mls.snapshot import dump_group, load_group
from nostr.event import UnsignedEvent
from storage.rows import GroupMetadata, Member, MlsState
from storage.rows.branches import ROOT_KEY, BranchNodeRow

STATE_FORMAT = 3
"""A Profile B group state: a bare `mls.snapshot` blob (Profile A's formats are 1 and 2)."""

Tree = BranchTree[UnsignedEvent]
Node = BranchNode[UnsignedEvent]

ADMINS, PICTURE, RETENTION, DISBANDED = "admins", "picture", "retention", "disbanded"
"""Timeline kinds Profile A has no counterpart of (CONTRACT.md)."""


def node_key(node: Node) -> str:
    return ROOT_KEY if node.meta is None else node.meta.digest.hex()


def dump_state(state: GroupState) -> MlsState:
    return MlsState(STATE_FORMAT, dump_group(state))


def load_state(stored: MlsState) -> GroupState:
    return load_group(stored.data)


def to_rows(tree: Tree) -> list[BranchNodeRow]:
    rows = []
    for node in tree.nodes():
        meta = node.meta
        rows.append(
            BranchNodeRow(
                node_key(node),
                None if node.parent is None else node_key(node.parent),
                node.epoch,
                dump_state(node.state),
                None if meta is None else meta.committer.hex(),
                None if meta is None else int(meta.priority),
                tuple(sorted(w.hex() for w in node.witnesses)),
                node is tree.canonical,
            )
        )
    return rows


def from_rows(rows: Sequence[BranchNodeRow]) -> Tree:
    """The tree back (``rows`` parents first, as `storage.repos.branches.load_tree` gives)."""
    by_key: dict[str, Node] = {}
    tree: Tree | None = None
    canonical: Node | None = None
    for row in rows:
        meta = None
        if row.committer is not None and row.priority is not None:
            meta = CommitMeta(
                bytes.fromhex(row.committer), Priority(row.priority), bytes.fromhex(row.key)
            )
        state = load_state(row.state)
        if row.parent_key is None:
            tree = BranchTree(state)
            node = tree.root
            node.meta = meta
        else:
            parent = by_key[row.parent_key]
            node = BranchNode(state, parent, meta)
            parent.children.append(node)
        node.witnesses.update(bytes.fromhex(w) for w in row.witnesses)
        by_key[row.key] = node
        if row.canonical:
            canonical = node
    if tree is None or canonical is None:
        raise ValueError("a stored branch tree without its root or canonical node")
    tree.canonical = canonical
    return tree


def find(tree: Tree, key: str) -> Node | None:
    return next((n for n in tree.nodes() if node_key(n) == key), None)


# --- the group row ------------------------------------------------------------------------------


def metadata(view: GroupView) -> GroupMetadata:
    routing = view.routing
    if routing is None:
        raise ValueError("a Profile B group without its Nostr routing")
    return GroupMetadata(
        routing.nostr_group_id.hex(),
        view.profile.name,
        view.profile.description,
        tuple(a.hex() for a in view.admins),
        routing.relays,
    )


def members(state: GroupState) -> tuple[Member, ...]:
    return tuple(
        Member(m.leaf_index, m.credential.identity.hex())
        for m in sorted(state.members(), key=lambda m: m.leaf_index)
    )


# --- our pending commit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnCommit:
    """Our commit until a relay took it: the node it was built on, what convergence needs
    of it, the timeline rows it makes, and the state it leads to."""

    base: str
    priority: Priority
    digest: bytes
    changes: tuple[timeline.Change, ...]
    next_state: GroupState = field(repr=False)

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "base": self.base,
                "priority": int(self.priority),
                "digest": self.digest.hex(),
                "changes": [[c.what, c.actor, c.subject, c.value] for c in self.changes],
            },
            separators=(",", ":"),
        ).encode()
        return len(header).to_bytes(4, "big") + header + dump_group(self.next_state)

    @classmethod
    def from_bytes(cls, blob: bytes) -> OwnCommit:
        size = int.from_bytes(blob[:4], "big")
        head = json.loads(blob[4 : 4 + size])
        changes = tuple(timeline.Change(*c) for c in head["changes"])
        return cls(
            head["base"],
            Priority(head["priority"]),
            bytes.fromhex(head["digest"]),
            changes,
            load_group(blob[4 + size :]),
        )


# --- system rows -------------------------------------------------------------------------------


def commit_changes(
    prior: GroupState, summary: CommitProcessed, after: GroupState | None
) -> list[timeline.Change]:
    """The timeline rows of a commit accepted at ``prior`` (``after``: the state it led
    to, None when it removed us)."""
    committer = prior.member(summary.sender_leaf)
    actor = b"" if committer is None else committer.credential.identity
    return timeline_changes(group_changes(prior, summary), prior, after, actor=actor)


def timeline_changes(
    changes: Sequence[SystemChange],
    before: GroupState,
    after: GroupState | None,
    *,
    actor: bytes,
) -> list[timeline.Change]:
    """Profile B's system rows (`marmot.profile_b.changes`) as the app's timeline rows,
    plus a description change (by ``actor``, the committer), which MDK shows no row for."""
    out: list[timeline.Change] = []
    for change in changes:
        who = "" if change.actor is None else change.actor.hex()
        subject = "" if change.subject is None else change.subject.hex()
        out.append(_timeline_change(change, who, subject))
    if after is not None:
        old, new = group_view(before).profile, group_view(after).profile
        if old.description != new.description:
            out.append(timeline.Change(timeline.DESCRIBED, actor.hex(), value=new.description))
    return out


_KINDS = {
    SystemType.MEMBER_ADDED: timeline.ADDED,
    SystemType.MEMBER_REMOVED: timeline.REMOVED,
    SystemType.ADMIN_ADDED: ADMINS,
    SystemType.ADMIN_REMOVED: ADMINS,
    SystemType.GROUP_RENAMED: timeline.RENAMED,
    SystemType.GROUP_AVATAR_CHANGED: PICTURE,
    SystemType.DISAPPEARING_TIMER_CHANGED: RETENTION,
    SystemType.GROUP_DISBANDED: DISBANDED,
}


def _timeline_change(change: SystemChange, actor: str, subject: str) -> timeline.Change:
    kind = change.system_type
    if kind is SystemType.MEMBER_LEFT:
        return timeline.Change(timeline.LEFT, subject or actor)
    value = ""
    if kind is SystemType.ADMIN_ADDED:
        value = "granted"
    elif kind is SystemType.ADMIN_REMOVED:
        value = "revoked"
    elif kind is SystemType.GROUP_RENAMED:
        value = change.name or ""
    elif kind is SystemType.DISAPPEARING_TIMER_CHANGED:
        value = str(change.new_retention_secs or "")
    return timeline.Change(_KINDS[kind], actor, subject, value)
